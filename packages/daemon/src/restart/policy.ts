/**
 * Restart policies as an explicit state machine (runc's habit: states written down, an error for
 * an illegal transition). A pure function of (state, event) → (state, action); the daemon
 * performs the action (start the container, arm or cancel the back-off timer) and records the
 * new state before it does. The table in packages/daemon/README.md is this function in prose,
 * and policy.test.ts runs every row of that table against it.
 *
 * Back-off as Docker's restartmanager: 100 ms, doubling per restart up to 1 minute, back to
 * 100 ms once a run lasted 10 s or more. `stop` sets manuallyStopped, which is persisted, so a
 * restart of berthd never brings a stopped container back; a host reboot (a new boot id) does
 * for `always`, as Docker's daemon start does, but not for `unless-stopped`.
 */

export type PolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface Policy {
  name: PolicyName;
  /** on-failure only; 0: no limit. */
  maxRetries: number;
}

export type RestartStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited';

export interface RestartState {
  status: RestartStatus;
  policy: Policy;
  manuallyStopped: boolean;
  /** Restarts made by the policy since the last manual start (Docker's RestartCount). */
  restartCount: number;
  /** The last back-off used, 0 before the first. */
  backoffMs: number;
}

export type RestartEvent =
  | { type: 'start' }
  | { type: 'exit'; exitCode: number; ranMs: number }
  | { type: 'stop' }
  | { type: 'daemon-restart' }
  | { type: 'host-reboot' }
  | { type: 'update-restart'; policy: Policy }
  | { type: 'pause' }
  | { type: 'unpause' }
  | { type: 'backoff-elapsed' };

export type RestartAction =
  | { type: 'none' }
  /** Start the container now. */
  | { type: 'start' }
  /** Arm the back-off timer; on expiry apply `backoff-elapsed`. */
  | { type: 'schedule'; delayMs: number }
  /** Disarm the back-off timer. */
  | { type: 'cancel' }
  /** Send the stop signal (the exit that follows finds manuallyStopped set). */
  | { type: 'kill' };

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const STABLE_RUN_MS = 10_000;

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

export function parsePolicy(s: string): Policy {
  if (s === '' || s === 'no') return { name: 'no', maxRetries: 0 };
  if (s === 'always' || s === 'unless-stopped') return { name: s, maxRetries: 0 };
  const m = /^on-failure(?::(\d+))?$/.exec(s);
  if (m) return { name: 'on-failure', maxRetries: m[1] ? Number(m[1]) : 0 };
  throw new Error(`invalid restart policy ${JSON.stringify(s)}: use no, always, unless-stopped or on-failure[:max-retries]`);
}

export function initialState(policy: Policy): RestartState {
  return { status: 'created', policy, manuallyStopped: false, restartCount: 0, backoffMs: 0 };
}

/** Whether the policy restarts after this exit (the back-off is computed apart). */
function wantsRestart(s: RestartState, exitCode: number, honourManualStop: boolean): boolean {
  switch (s.policy.name) {
    case 'always':
      return !honourManualStop || !s.manuallyStopped;
    case 'unless-stopped':
      return !s.manuallyStopped;
    case 'on-failure':
      return exitCode !== 0 && (s.policy.maxRetries === 0 || s.restartCount < s.policy.maxRetries);
    default:
      return false;
  }
}

function nextBackoff(prev: number, ranMs: number): number {
  const base = ranMs >= STABLE_RUN_MS ? 0 : prev;
  return base === 0 ? BACKOFF_START_MS : Math.min(base * 2, BACKOFF_MAX_MS);
}

export function transition(s: RestartState, e: RestartEvent): { state: RestartState; action: RestartAction } {
  const none = (state: RestartState = s) => ({ state, action: { type: 'none' } as RestartAction });
  switch (e.type) {
    case 'start':
      if (s.status === 'paused') throw new IllegalTransitionError('cannot start a paused container, try unpause instead');
      if (s.status === 'running') return none();
      return {
        state: { ...s, status: 'running', manuallyStopped: false, restartCount: 0, backoffMs: 0 },
        action: { type: 'start' },
      };
    case 'exit': {
      if (s.status !== 'running' && s.status !== 'paused') return none(); // stale: already handled
      if (s.manuallyStopped) return none({ ...s, status: 'exited' });
      const backoffMs = nextBackoff(s.backoffMs, e.ranMs);
      if (!wantsRestart(s, e.exitCode, true)) return none({ ...s, status: 'exited', backoffMs });
      return {
        state: { ...s, status: 'restarting', restartCount: s.restartCount + 1, backoffMs },
        action: { type: 'schedule', delayMs: backoffMs },
      };
    }
    case 'stop':
      if (s.status === 'restarting') return { state: { ...s, status: 'exited', manuallyStopped: true }, action: { type: 'cancel' } };
      if (s.status === 'running' || s.status === 'paused') return { state: { ...s, manuallyStopped: true }, action: { type: 'kill' } };
      return none({ ...s, manuallyStopped: s.status === 'exited' ? true : s.manuallyStopped });
    case 'daemon-restart':
      // berthd's own restart is invisible: what ran runs on (exits in the gap arrive as `exit`),
      // a stop stays a stop, and a pending back-off is re-armed (its timer died with berthd).
      if (s.status === 'restarting') return { state: s, action: { type: 'schedule', delayMs: s.backoffMs || BACKOFF_START_MS } };
      return none();
    case 'host-reboot': {
      // Everything that ran is gone. Docker's daemon start: `always` comes back even after a
      // manual stop, `unless-stopped` unless stopped, on-failure as after a failed exit (255).
      if (s.status === 'created') return none();
      const wasUp = s.status !== 'exited';
      const restart = wasUp ? wantsRestart(s, 255, false) : s.policy.name === 'always' || (s.policy.name === 'unless-stopped' && !s.manuallyStopped);
      if (!restart) return none({ ...s, status: 'exited' });
      return { state: { ...s, status: 'running', manuallyStopped: false, backoffMs: 0 }, action: { type: 'start' } };
    }
    case 'update-restart':
      if (s.status === 'restarting' && e.policy.name === 'no') return { state: { ...s, policy: e.policy, status: 'exited' }, action: { type: 'cancel' } };
      return none({ ...s, policy: e.policy });
    case 'pause':
      if (s.status !== 'running') throw new IllegalTransitionError(`container is ${s.status}, not running: cannot pause`);
      return none({ ...s, status: 'paused' });
    case 'unpause':
      if (s.status !== 'paused') throw new IllegalTransitionError(`container is ${s.status}, not paused: cannot unpause`);
      return none({ ...s, status: 'running' });
    case 'backoff-elapsed':
      if (s.status !== 'restarting') return none();
      return { state: { ...s, status: 'running' }, action: { type: 'start' } };
  }
}
