// Runs every row of the restart table in packages/daemon/README.md against transition().
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError, initialState, parsePolicy, transition, type RestartEvent, type RestartState, type RestartStatus,
} from './policy.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Restart policies'));
const rows = section
  .split('\n')
  .filter((l) => /^\| (created|running|paused|restarting|exited) \|/.test(l))
  .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));

function applyFields(s: RestartState, text: string): { state: RestartState; ranMs: number } {
  let ranMs = 1000;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if (part === 'manually stopped') s = { ...s, manuallyStopped: true };
    else if ((m = /^restarts (\d+)$/.exec(part))) s = { ...s, restartCount: Number(m[1]) };
    else if ((m = /^back-off (\d+) ms$/.exec(part))) s = { ...s, backoffMs: Number(m[1]) };
    else if ((m = /^ran (\d+) s$/.exec(part))) ranMs = Number(m[1]) * 1000;
    else throw new Error(`unknown field in the table: ${part}`);
  }
  return { state: s, ranMs };
}

function event(text: string, ranMs: number): RestartEvent {
  let m: RegExpExecArray | null;
  if ((m = /^exit (\d+)$/.exec(text))) return { type: 'exit', exitCode: Number(m[1]), ranMs };
  if ((m = /^update --restart (.+)$/.exec(text))) return { type: 'update-restart', policy: parsePolicy(m[1]!) };
  const simple: Record<string, RestartEvent> = {
    stop: { type: 'stop' }, start: { type: 'start' }, 'daemon restart': { type: 'daemon-restart' },
    'host reboot': { type: 'host-reboot' }, pause: { type: 'pause' }, unpause: { type: 'unpause' },
    'back-off elapsed': { type: 'backoff-elapsed' },
  };
  const e = simple[text];
  if (!e) throw new Error(`unknown event in the table: ${text}`);
  return e;
}

describe('restart state machine (README table)', () => {
  it('has the table', () => expect(rows.length).toBeGreaterThan(30));
  for (const [from, ev, policy, given, to, action, then] of rows) {
    it(`${from} + ${ev} (${policy}${given ? `; ${given}` : ''}) → ${to}, ${action}`, () => {
      const base = { ...initialState(parsePolicy(policy === 'any' ? 'always' : policy!)), status: from as RestartStatus };
      const { state, ranMs } = applyFields(base, given!);
      const e = event(ev!, ranMs);
      if (action === 'error') {
        expect(() => transition(state, e)).toThrow(IllegalTransitionError);
        return;
      }
      const r = transition(state, e);
      expect(r.state.status).toBe(to);
      const m = /^start in (\d+) ms$/.exec(action!);
      if (m) expect(r.action).toEqual({ type: 'schedule', delayMs: Number(m[1]) });
      else expect(r.action).toEqual({ type: action === 'start now' ? 'start' : action });
      const want = applyFields(r.state, then!).state;
      expect(r.state).toEqual(want);
    });
  }
});

describe('parsePolicy', () => {
  it('reads Docker forms and refuses others', () => {
    expect(parsePolicy('on-failure:3')).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(parsePolicy('')).toEqual({ name: 'no', maxRetries: 0 });
    expect(() => parsePolicy('sometimes')).toThrow(/invalid restart policy/);
  });
});
