/** Signal names and numbers as Docker accepts them ("SIGTERM", "TERM", "15"). */
import { constants } from 'node:os';
import { InvalidArgumentError } from '@berth/api/errdefs';

export function parseSignal(s: string): number {
  const t = s.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || n > 64) throw new InvalidArgumentError(`invalid signal: ${s}`);
    return n;
  }
  const name = (t.startsWith('SIG') ? t : `SIG${t}`) as keyof typeof constants.signals;
  const m = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (m) return 34 + Number(m[1] ?? 0);
  const n = constants.signals[name];
  if (n === undefined) throw new InvalidArgumentError(`invalid signal: ${s}`);
  return n;
}
