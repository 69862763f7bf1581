/**
 * Wall-clock time with nanoseconds, for log lines, events and exit records. The shim installs
 * the kernel's CLOCK_REALTIME (through the addon) at start: pairing Date.now() with hrtime once
 * drifts from the wall clock and is off by any pause between the two reads, which would date an
 * exit before the kill that caused it. The paired clock remains for code run without the addon
 * (unit tests).
 */
let source: () => bigint = pairedClock();

function pairedClock(): () => bigint {
  const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => anchor + process.hrtime.bigint();
}

/** Makes nowNs() read the kernel's wall clock, e.g. the addon's realtimeNs. */
export function useWallClock(realtimeNs: () => bigint): void {
  source = realtimeNs;
}

/** Nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  return source();
}

/** RFC 3339 with nine fractional digits, as Docker's json-file writes `time`. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}
