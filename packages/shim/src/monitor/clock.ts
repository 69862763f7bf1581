/**
 * Wall-clock time with nanoseconds: Date gives milliseconds, hrtime the finer digits. Anchored
 * once, so times from one shim never go backwards.
 */
const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  return anchor + process.hrtime.bigint();
}

/** RFC 3339 with nine fractional digits, as Docker's json-file writes `time`. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}
