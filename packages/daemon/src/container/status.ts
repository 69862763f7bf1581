/** Docker's human-readable status for `ps` ("Up 3 minutes", "Exited (0) 2 seconds ago"). */
import type { ContainerRecord } from './record.js';
import { parseTimeNs } from './record.js';
import { healthSuffix } from './health.js';

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

const since = (t: string, now: number): number => now - Number(parseTimeNs(t) / 1_000_000n);

export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  switch (s.Status) {
    case 'running':
      return `Up ${humanDuration(since(s.StartedAt, now))}${healthSuffix(s.Health)}`;
    case 'paused':
      return `Up ${humanDuration(since(s.StartedAt, now))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
    case 'exited':
      return `Exited (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}
