/**
 * The `time` of json-file log lines, read fast: millions of lines share a few whole-second
 * prefixes, so the prefix is parsed once (Date.parse, toISOString) and only the fraction per
 * line, in plain numbers. Exactly what parseTimeNs / rfc3339Nano (container/record.ts) give;
 * any form the fast path does not cover goes through them.
 */
import { parseTimeNs, rfc3339Nano } from '../container/record.js';

const DIGITS = /^\d+$/;

/** An instant as whole milliseconds since the epoch and the nanoseconds past them (< 1e6). */
export interface Instant {
  ms: number;
  subNs: number;
}

export function instantOf(ns: bigint): Instant {
  let ms = ns / 1_000_000n;
  let sub = ns % 1_000_000n;
  if (sub < 0n) { ms -= 1n; sub += 1_000_000n; } // floor, not truncation, before the epoch
  return { ms: Number(ms), subNs: Number(sub) };
}

/** a < b, for instants. */
export const before = (a: Instant, b: Instant): boolean => a.ms < b.ms || (a.ms === b.ms && a.subNs < b.subNs);

/** Parses log times, caching the last whole-second prefix. Not shared between readers. */
export class LogTimes {
  private base = '\0';
  private baseMs = NaN;
  private baseIso = ''; // "YYYY-MM-DDTHH:MM:SS", when the base is a whole second >= the epoch

  /** Splits `s` as parseTimeNs does: base, then an optional ".digits" before the final Z. */
  private split(s: string): { base: string; frac: string } | undefined {
    if (!s.endsWith('Z')) return undefined;
    const dot = s.lastIndexOf('.');
    if (dot >= 0 && DIGITS.test(s.slice(dot + 1, -1))) return { base: s.slice(0, dot), frac: s.slice(dot + 1, -1) };
    return { base: s.slice(0, -1), frac: '' };
  }

  private setBase(base: string): void {
    if (base === this.base) return;
    this.base = base;
    this.baseMs = Date.parse(`${base}Z`);
    this.baseIso = Number.isFinite(this.baseMs) && this.baseMs >= 0 && this.baseMs % 1000 === 0
      ? new Date(this.baseMs).toISOString().slice(0, -5)
      : '';
  }

  /** The instant of a time string, as parseTimeNs reads it (0 for what it cannot read). */
  instant(s: string): Instant {
    const p = this.split(s);
    if (!p) return { ms: 0, subNs: 0 };
    this.setBase(p.base);
    if (!Number.isFinite(this.baseMs)) return instantOf(safeParse(s));
    const frac = p.frac ? Number(p.frac.padEnd(9, '0').slice(0, 9)) : 0;
    return { ms: this.baseMs + Math.floor(frac / 1e6), subNs: frac % 1e6 };
  }

  ns(s: string): bigint {
    const i = this.instant(s);
    return BigInt(i.ms) * 1_000_000n + BigInt(i.subNs);
  }

  /** rfc3339Nano(parseTimeNs(s)): `docker logs -t`'s prefix. */
  rfc3339(s: string): string {
    const p = this.split(s);
    if (p) {
      this.setBase(p.base);
      if (this.baseIso) {
        const frac = p.frac ? p.frac.padEnd(9, '0').slice(0, 9).replace(/0+$/, '') : '';
        return frac ? `${this.baseIso}.${frac}Z` : `${this.baseIso}Z`;
      }
    }
    return rfc3339Nano(safeParse(s));
  }
}

/** parseTimeNs, with 0 for a time it cannot take (a bad date would otherwise throw). */
function safeParse(s: string): bigint {
  try {
    return parseTimeNs(s);
  } catch {
    return 0n;
  }
}
