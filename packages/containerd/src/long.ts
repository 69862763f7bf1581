// int64 fields travel as protobufjs Longs; berth-containerd keeps times as bigint nanoseconds.
import Long from 'long';

export function toLong(v: bigint | number): Long {
  return Long.fromString(String(v));
}

export function fromLong(v: Long | number | string | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  return BigInt(v.toString());
}

export function toNum(v: Long | number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
