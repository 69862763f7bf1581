import { describe, expect, it } from 'vitest';
import { applyResult, healthSuffix, initialHealth, nextDelayMs, probeCommand, timing, type HealthLogEntry } from './health.js';

const entry = (code: number, out = ''): HealthLogEntry => ({ Start: 's', End: 'e', ExitCode: code, Output: out });

describe('healthchecks (moby daemon/health.go)', () => {
  it('probe commands', () => {
    expect(probeCommand({ Test: ['CMD', 'true'] })).toEqual(['true']);
    expect(probeCommand({ Test: ['CMD-SHELL', 'test -f /x'] })).toEqual(['/bin/sh', '-c', 'test -f /x']);
    expect(probeCommand({ Test: ['NONE'] })).toBeUndefined();
    expect(probeCommand(undefined)).toBeUndefined();
  });

  it('defaults: 30 s interval and timeout, 3 retries, no start period', () => {
    expect(timing({})).toEqual({ intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3 });
  });

  it('turns healthy at the first success', () => {
    const t = timing({ Retries: 2 });
    const h = applyResult(initialHealth(), entry(0, 'ok\n'), t, 100);
    expect(h).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    expect(h.Log).toHaveLength(1);
    expect(healthSuffix(h)).toBe(' (healthy)');
  });

  it('turns unhealthy after retries failures; the log keeps the last 5, output cut at 4096', () => {
    const t = timing({ Retries: 3 });
    let h = initialHealth();
    h = applyResult(h, entry(1), t, 0);
    expect(h).toMatchObject({ Status: 'starting', FailingStreak: 1 });
    h = applyResult(h, entry(1), t, 0);
    h = applyResult(h, entry(1, 'x'.repeat(5000)), t, 0);
    expect(h).toMatchObject({ Status: 'unhealthy', FailingStreak: 3 });
    expect(h.Log.at(-1)!.Output).toHaveLength(4096);
    for (let i = 0; i < 4; i++) h = applyResult(h, entry(1), t, 0);
    expect(h.Log).toHaveLength(5);
    expect(healthSuffix(h)).toBe(' (unhealthy)');
    expect(applyResult(h, entry(0), t, 0)).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
  });

  it('failures in the start period do not count; probes come at the start interval then', () => {
    const t = timing({ StartPeriod: 10e9, StartInterval: 1e9, Interval: 30e9, Retries: 1 });
    expect(applyResult(initialHealth(), entry(1), t, 5000)).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    expect(applyResult(initialHealth(), entry(1), t, 11_000)).toMatchObject({ Status: 'unhealthy', FailingStreak: 1 });
    expect(nextDelayMs(t, initialHealth(), 0)).toBe(1000);
    expect(nextDelayMs(t, initialHealth(), 11_000)).toBe(30_000);
    expect(healthSuffix(initialHealth())).toBe(' (health: starting)');
  });
});
