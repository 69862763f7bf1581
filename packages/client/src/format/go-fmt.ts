// Go's fmt, as far as templates reach it: Sprint, Sprintln, Sprintf (verbs v s d q x X o b c U e E
// f F g G t T %, flags + - # 0 space, width, precision, * and [n]) and %v of slices and maps.
// Floats are formatted from their exact binary value with round-half-even, as Go does (JS's
// toFixed rounds ties up: 2.5 -> "3" where Go prints "2").
import { goTypeName, isObject, sortedKeys } from './values.js';

interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

const plain: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false };

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Pads to the width in runes, as Go does. */
function pad(s: string, spec: Spec, zeroOk = false): string {
  if (spec.width === undefined) return s;
  const n = spec.width - runeCount(s);
  if (n <= 0) return s;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && zeroOk) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

// ---- floats: decimal digits of a double ------------------------------------------------------

interface Decimal {
  d: string; // significant digits, no leading or trailing zeros ("" for zero)
  dp: number; // decimal point position: value = 0.d * 10^dp
}

/** The exact decimal expansion of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  let e = Number((bits >> 52n) & 0x7ffn);
  let m = bits & ((1n << 52n) - 1n);
  if (e === 0) e = 1;
  else m |= 1n << 52n;
  e -= 1075;
  let s: string;
  let dp: number;
  if (e >= 0) {
    s = (m << BigInt(e)).toString();
    dp = s.length;
  } else {
    s = (m * 5n ** BigInt(-e)).toString();
    dp = s.length + e;
  }
  return trim({ d: s, dp });
}

function trim(dec: Decimal): Decimal {
  let d = dec.d.replace(/0+$/, '');
  let dp = dec.dp;
  const lead = d.length - d.replace(/^0+/, '').length;
  d = d.slice(lead);
  dp -= lead;
  return d === '' ? { d: '', dp: 0 } : { d, dp };
}

/** The shortest digits that read back as x (JS and Go agree on these). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  return trim({ d: mant.replace('.', ''), dp: Number(exp) + 1 });
}

/** Rounds to nd significant digits, halfway cases to even (Go's decimal.Round). */
function roundTo(dec: Decimal, nd: number): Decimal {
  if (nd < 0) return { d: '', dp: 0 };
  if (dec.d.length <= nd) return dec;
  const next = dec.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < dec.d.length) up = true; // more digits after the 5: above halfway
  else up = nd > 0 && (dec.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trim({ d: dec.d.slice(0, nd), dp: dec.dp });
  const digits = dec.d.slice(0, nd).split('').map(Number);
  let i = nd - 1;
  while (i >= 0 && digits[i] === 9) i--;
  if (i < 0) return { d: '1', dp: dec.dp + 1 };
  digits[i]! += 1;
  return trim({ d: digits.slice(0, i + 1).join(''), dp: dec.dp });
}

function digitAt(dec: Decimal, i: number): string {
  return i >= 0 && i < dec.d.length ? dec.d[i]! : '0';
}

function fmtF(dec: Decimal, prec: number): string {
  let s = dec.dp > 0 ? '' : '0';
  for (let i = 0; i < dec.dp; i++) s += digitAt(dec, i);
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(dec, dec.dp + i);
  }
  return s;
}

function fmtE(dec: Decimal, prec: number, e: 'e' | 'E'): string {
  let s = dec.d === '' ? '0' : dec.d[0]!;
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(dec, i);
  }
  const exp = dec.d === '' ? 0 : dec.dp - 1;
  const abs = Math.abs(exp);
  return s + e + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + abs;
}

/** strconv.FormatFloat(x, verb, prec, 64) for e, f, g (prec -1: shortest). */
export function formatFloat(x: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number, sharp = false): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let dec: Decimal;
  let out: string;
  if (verb === 'f') {
    dec = shortest ? shortestDecimal(abs) : (() => { const ex = exactDecimal(abs); return roundTo(ex, ex.dp + prec); })();
    out = fmtF(dec, shortest ? Math.max(dec.d.length - dec.dp, 0) : prec);
  } else if (verb === 'e' || verb === 'E') {
    dec = shortest ? shortestDecimal(abs) : roundTo(exactDecimal(abs), prec + 1);
    out = fmtE(dec, shortest ? Math.max(dec.d.length - 1, 0) : prec, verb);
  } else {
    let p = prec;
    if (shortest) {
      dec = shortestDecimal(abs);
      p = dec.d.length;
    } else {
      if (p === 0) p = 1;
      dec = roundTo(exactDecimal(abs), p);
    }
    let eprec = p;
    if (eprec > dec.d.length && dec.d.length >= dec.dp) eprec = dec.d.length;
    if (shortest) eprec = 6;
    if (sharp) eprec = shortest ? 6 : p;
    const exp = dec.dp - 1;
    const e = verb === 'G' ? 'E' : 'e';
    if (exp < -4 || exp >= eprec) {
      let ep = sharp ? (shortest ? 6 : p) : Math.min(p, Math.max(dec.d.length, 1));
      out = fmtE(dec, ep - 1, e);
    } else {
      let fp = p;
      if (sharp) fp = shortest ? 6 : p;
      else if (fp > dec.dp) fp = Math.max(dec.d.length, dec.dp);
      out = fmtF(dec, Math.max(fp - dec.dp, 0));
    }
  }
  return (neg ? '-' : '') + out;
}

// ---- quoting -------------------------------------------------------------------------------

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function quoteRune(r: string, q: '"' | "'", asciiOnly: boolean): string {
  const c = r.codePointAt(0)!;
  if (r === q || r === '\\') return '\\' + r;
  if (c < 0x80 ? printable.test(r) : !asciiOnly && printable.test(r)) return r;
  switch (r) {
    case '\x07': return '\\a';
    case '\b': return '\\b';
    case '\f': return '\\f';
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    case '\v': return '\\v';
  }
  if (c < 0x20 || c === 0x7f) return '\\x' + c.toString(16).padStart(2, '0');
  if (c >= 0xd800 && c <= 0xdfff) return '\\ufffd'; // a lone surrogate is invalid UTF-8 in Go
  if (c < 0x10000) return '\\u' + c.toString(16).padStart(4, '0');
  return '\\U' + c.toString(16).padStart(8, '0');
}

/** strconv.Quote (asciiOnly: QuoteToASCII). */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const r of s) out += quoteRune(r, '"', asciiOnly);
  return out + '"';
}

function canBackquote(s: string): boolean {
  return !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(s);
}

// ---- values --------------------------------------------------------------------------------

function bad(verb: string, v: unknown): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatValue(v, 'v', plain)})`;
}

function formatInt(v: number | bigint, verb: string, spec: Spec): string {
  const n = BigInt(v);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v': case 'd': digits = abs.toString(10); break;
    case 'b': digits = abs.toString(2); if (spec.sharp) prefix = '0b'; break;
    case 'o': digits = abs.toString(8); if (spec.sharp) prefix = '0'; break;
    case 'O': digits = abs.toString(8); prefix = '0o'; break;
    case 'x': digits = abs.toString(16); if (spec.sharp) prefix = '0x'; break;
    case 'X': digits = abs.toString(16).toUpperCase(); if (spec.sharp) prefix = '0X'; break;
    case 'c': return pad(String.fromCodePoint(Number(n)), spec);
    case 'q': return pad("'" + quoteRune(String.fromCodePoint(Number(n)), "'", spec.plus) + "'", spec);
    case 'U': {
      const u = 'U+' + abs.toString(16).toUpperCase().padStart(4, '0');
      return pad(spec.sharp ? `${u} '${String.fromCodePoint(Number(n))}'` : u, spec);
    }
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
      return bad(verb, v);
    default:
      return bad(verb, v);
  }
  if (spec.prec !== undefined) {
    digits = spec.prec === 0 && abs === 0n ? '' : digits.padStart(spec.prec, '0');
  }
  if (prefix === '0' && digits.startsWith('0')) prefix = '';
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + prefix + digits, spec, spec.prec === undefined);
}

function formatFloatVerb(v: number, verb: string, spec: Spec): string {
  let s: string;
  switch (verb) {
    case 'v': s = formatFloat(v, 'g', spec.prec ?? -1, spec.sharp); break;
    case 'g': case 'G': s = formatFloat(v, verb, spec.prec ?? -1, spec.sharp); break;
    case 'e': case 'E': s = formatFloat(v, verb, spec.prec ?? 6); break;
    case 'f': case 'F': s = formatFloat(v, 'f', spec.prec ?? 6); break;
    default: return bad(verb, v);
  }
  if (spec.plus && !s.startsWith('-')) s = '+' + s;
  else if (spec.space && !s.startsWith('-') && !s.startsWith('+')) s = ' ' + s;
  else if (s === '+Inf' && !spec.plus) s = spec.space ? ' Inf' : '+Inf';
  return pad(s, spec, Number.isFinite(v));
}

function formatString(s: string, verb: string, spec: Spec): string {
  switch (verb) {
    case 'v': case 's': {
      if (spec.prec !== undefined) s = Array.from(s).slice(0, spec.prec).join('');
      return pad(s, spec, true);
    }
    case 'q':
      if (spec.sharp && canBackquote(s)) return pad('`' + s + '`', spec);
      return pad(goQuote(s, spec.plus), spec);
    case 'x': case 'X': {
      let bytes = [...Buffer.from(s, 'utf8')];
      if (spec.prec !== undefined) bytes = bytes.slice(0, spec.prec);
      const hex = bytes.map((b) => {
        const h = b.toString(16).padStart(2, '0');
        return verb === 'X' ? h.toUpperCase() : h;
      });
      const px = spec.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      const out = spec.space ? hex.map((h) => px + h).join(' ') : px + hex.join('');
      return pad(out, spec);
    }
    default:
      return bad(verb, s);
  }
}

/** One value under one verb, as fmt's printValue does (slices and maps element by element). */
export function formatValue(v: unknown, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(v), spec);
  if (v === null || v === undefined) return verb === 'v' ? pad('<nil>', spec) : bad(verb, v);
  switch (typeof v) {
    case 'string': return formatString(v, verb, spec);
    case 'boolean': return verb === 'v' || verb === 't' ? pad(String(v), spec) : bad(verb, v);
    case 'bigint': return formatInt(v, verb, spec);
    case 'number':
      // JS numbers do not say int or float64: an integral value is an int, except under a
      // float verb, where Go's float64 2.0 would print as a float (not "%!f(int=2)").
      if (Number.isSafeInteger(v) && !'eEfFgG'.includes(verb)) return formatInt(v, verb, spec);
      return formatFloatVerb(v, verb, spec);
    case 'function': return verb === 'v' || verb === 'p' ? pad('0x0', spec) : bad(verb, v);
  }
  if (Array.isArray(v)) return '[' + v.map((e) => formatValue(e, verb, spec)).join(' ') + ']';
  if (isObject(v)) {
    return 'map[' + sortedKeys(v).map((k) => `${formatValue(k, verb, spec)}:${formatValue(v[k], verb, spec)}`).join(' ') + ']';
  }
  return pad(String(v), spec);
}

/** fmt.Sprint: operands are joined with a space when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatValue(a, 'v', plain);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: operands always joined with spaces, then a newline. */
export function sprintln(args: unknown[]): string {
  return args.map((a) => formatValue(a, 'v', plain)).join(' ') + '\n';
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const n = format.length;
  const argIndex = (): boolean => {
    // [n] explicit argument index; returns false on a malformed index
    if (format[i] !== '[') return true;
    reordered = true;
    const close = format.indexOf(']', i);
    const idx = close < 0 ? NaN : Number(format.slice(i + 1, close));
    if (!Number.isInteger(idx) || idx < 1 || idx > args.length) {
      i = close < 0 ? n : close + 1;
      return false;
    }
    argNum = idx - 1;
    reordered = true;
    i = close + 1;
    return true;
  };
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false };
    flags: for (; i < n; i++) {
      switch (format[i]) {
        case '+': spec.plus = true; break;
        case '-': spec.minus = true; spec.zero = false; break;
        case '#': spec.sharp = true; break;
        case ' ': spec.space = true; break;
        case '0': spec.zero = !spec.minus; break;
        default: break flags;
      }
    }
    let goodIndex = argIndex();
    if (format[i] === '*') {
      i++;
      const w = args[argNum++];
      if (typeof w === 'number' && Number.isInteger(w)) {
        spec.width = Math.abs(w);
        if (w < 0) { spec.minus = true; spec.zero = false; }
      } else out += '%!(BADWIDTH)';
      goodIndex = argIndex() && goodIndex;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) { spec.width = Number(m[0]); i += m[0].length; }
    }
    if (format[i] === '.') {
      i++;
      goodIndex = argIndex() && goodIndex;
      if (format[i] === '*') {
        i++;
        const p = args[argNum++];
        if (typeof p === 'number' && Number.isInteger(p) && p >= 0) spec.prec = p;
        else out += '%!(BADPREC)';
        goodIndex = argIndex() && goodIndex;
      } else {
        const m = /^\d+/.exec(format.slice(i));
        spec.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (!reordered || goodIndex) goodIndex = argIndex() && goodIndex;
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodIndex) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatValue(args[argNum++], verb, spec);
  }
  if (!reordered && argNum < args.length) {
    out += '%!(EXTRA ' + args.slice(argNum).map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${formatValue(a, 'v', plain)}`)).join(', ') + ')';
  }
  return out;
}

/** What {{.}} prints for a value: %v, with "<no value>" for a missing one. */
export function printValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  return formatValue(v, 'v', plain);
}
