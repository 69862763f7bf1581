// Docker's go-units and the time forms its CLI prints and parses.

const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "512m", "1g", "1.5GiB", "100" (bytes); binary multiples. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const n = Number(m[1]);
  if (!Number.isFinite(n)) throw new Error(`invalid size: '${s}'`);
  return Math.floor(n * BINARY[(m[2] ?? '').toLowerCase()]!);
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision: decimal units, Go's %.*g. */
export function humanSize(size: number, precision = 4): string {
  let i = 0;
  while (size >= 1000 && i < DECIMAL.length - 1) {
    size /= 1000;
    i++;
  }
  return `${goG(size, precision)}${DECIMAL[i]}`;
}

function goG(v: number, prec: number): string {
  // Go's %g: shortest of %e/%f at `prec` significant digits, without trailing zeros.
  const s = Number(v.toPrecision(prec));
  const exp = s === 0 ? 0 : Math.floor(Math.log10(Math.abs(s)));
  if (exp < -4 || exp >= prec) return s.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(s);
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** Go's time.Time.String() as Docker's CreatedAt column shows it: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? 'UTC';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)} ${zone}`;
}

const DUR_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds ("1m30s", "500ms", "0"). */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let sign = 1;
  let str = s;
  if (str.startsWith('-') || str.startsWith('+')) {
    sign = str[0] === '-' ? -1 : 1;
    str = str.slice(1);
  }
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (at < str.length && (m = re.exec(str))) {
    total += Number(m[1]) * DUR_UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  if (!str || at !== str.length) throw new Error(`time: invalid duration "${s}"`);
  return sign * total;
}

/**
 * docker logs/events --since/--until: RFC 3339 (date, with or without time), a Unix timestamp
 * (seconds[.nanoseconds]) or a Go duration before now ("10m"). Nanoseconds since the epoch.
 */
export function parseTimestampNs(s: string, nowMs = Date.now()): bigint {
  if (/^\d+(\.\d{1,9})?$/.test(s)) {
    const [sec, frac = ''] = s.split('.');
    return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
  }
  try {
    const d = parseGoDuration(s);
    return BigInt(Math.round((nowMs - d) * 1e6));
  } catch {
    // not a duration
  }
  const t = Date.parse(/^\d{4}-\d\d-\d\d$/.test(s) ? `${s}T00:00:00Z` : s);
  if (Number.isNaN(t)) throw new Error(`invalid value for timestamp: "${s}" (use RFC 3339, a Unix timestamp or a duration like 10m)`);
  const nanos = /\.(\d{1,9})/.exec(s)?.[1];
  return BigInt(Math.floor(t / 1000)) * 1_000_000_000n + (nanos ? BigInt(nanos.padEnd(9, '0')) : BigInt(t % 1000) * 1_000_000n);
}
