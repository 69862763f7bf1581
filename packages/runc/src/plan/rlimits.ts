import { InvalidArgumentError } from '../errors.js';
import type { Rlimit } from '../spec/types.js';

/** RLIMIT_* resource numbers from <sys/resource.h>. */
const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** 2^64-1 in a JSON number is rounded up; treat anything that large as unlimited. */
const INFINITY_FROM = 2 ** 63;

export interface ResolvedRlimit {
  resource: number;
  soft: string;
  hard: string;
}

export function resolveRlimits(rlimits: readonly Rlimit[] = []): ResolvedRlimit[] {
  const seen = new Set<string>();
  return rlimits.map((r) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new InvalidArgumentError(`rlimit ${JSON.stringify(r.type)} is unknown (known: ${Object.keys(RLIMITS).join(', ')})`);
    if (seen.has(r.type)) throw new InvalidArgumentError(`rlimit ${r.type} is given twice`);
    seen.add(r.type);
    const value = (n: number) => (n >= INFINITY_FROM || n < 0 ? '-1' : String(Math.trunc(n)));
    return { resource, soft: value(r.soft), hard: value(r.hard) };
  });
}
