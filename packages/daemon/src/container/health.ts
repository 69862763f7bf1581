/**
 * Docker's healthchecks (moby daemon/health.go): the probe's command, its timing, and how each
 * result moves State.Health (Status starting → healthy / unhealthy, FailingStreak, the last 5 Log
 * entries with at most 4096 bytes of output each). The engine runs the probes (an exec in the
 * container through the shim); this module decides.
 */
import type { HealthConfig } from '../config/docker-types.js';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface Health {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthLogEntry[];
}

const SECOND_NS = 1_000_000_000;
export const DEFAULT_INTERVAL_NS = 30 * SECOND_NS;
export const DEFAULT_TIMEOUT_NS = 30 * SECOND_NS;
export const DEFAULT_START_INTERVAL_NS = 5 * SECOND_NS;
export const DEFAULT_RETRIES = 3;
/** Docker keeps this many results, and this much of each one's output. */
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_LEN = 4096;

/** The probe's argv, or undefined when there is none to run (no test, NONE). */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const t = h?.Test ?? [];
  if (!t.length || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD') return t.length > 1 ? t.slice(1) : undefined;
  if (t[0] === 'CMD-SHELL') return t.length > 1 ? ['/bin/sh', '-c', t.slice(1).join(' ')] : undefined;
  return undefined;
}

export interface Timing {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

export function timing(h: HealthConfig): Timing {
  const ms = (ns: number | undefined, dflt: number): number => Math.max(1, Math.round((ns && ns > 0 ? ns : dflt) / 1e6));
  return {
    intervalMs: ms(h.Interval, DEFAULT_INTERVAL_NS),
    timeoutMs: ms(h.Timeout, DEFAULT_TIMEOUT_NS),
    startPeriodMs: h.StartPeriod && h.StartPeriod > 0 ? Math.round(h.StartPeriod / 1e6) : 0,
    startIntervalMs: ms(h.StartInterval, DEFAULT_START_INTERVAL_NS),
    retries: h.Retries && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES,
  };
}

/** The delay before the next probe: the start interval while starting within the start period. */
export function nextDelayMs(t: Timing, health: Health, sinceStartMs: number): number {
  if (health.Status === 'starting' && t.startPeriodMs > 0 && sinceStartMs < t.startPeriodMs) return Math.min(t.startIntervalMs, t.intervalMs);
  return t.intervalMs;
}

export function initialHealth(): Health {
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}

/**
 * One probe's result applied (moby's handleProbeResult): success makes it healthy and resets the
 * streak; a failure within the start period while still starting does not count; otherwise the
 * streak grows and at `retries` it is unhealthy.
 */
export function applyResult(health: Health, entry: HealthLogEntry, t: Timing, sinceStartMs: number): Health {
  const e = { ...entry, Output: entry.Output.length > MAX_OUTPUT_LEN ? entry.Output.slice(0, MAX_OUTPUT_LEN) : entry.Output };
  const log = [...health.Log, e].slice(-MAX_LOG_ENTRIES);
  if (e.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  if (health.Status === 'starting' && t.startPeriodMs > 0 && sinceStartMs < t.startPeriodMs) return { ...health, Log: log };
  const streak = health.FailingStreak + 1;
  return { Status: streak >= t.retries ? 'unhealthy' : health.Status, FailingStreak: streak, Log: log };
}

/** ps's suffix: " (healthy)", " (unhealthy)", " (health: starting)". */
export function healthSuffix(h: Health | undefined): string {
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}
