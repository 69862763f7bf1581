/** Docker's units: `--memory 64m`, `--shm-size 1g`, `--log-opt max-size=10m` (binary multiples). */
import { InvalidArgumentError } from '@berth/api/errdefs';

const MULT: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes from "64m", "1.5g", "1024" (Docker's units.RAMInBytes). */
export function parseBytes(s: string, what = 'size'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`invalid ${what} ${JSON.stringify(s)}: use a number with an optional unit (b, k, m, g)`);
  return Math.floor(Number(m[1]) * MULT[m[2]!.toLowerCase()]!);
}
