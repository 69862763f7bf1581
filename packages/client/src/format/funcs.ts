// Template functions: Go's built-ins (and, or are evaluated lazily by the executor) and the ones
// docker/cli adds (json, split, join, title, lower, upper, pad, truncate), with the argument
// types Go would check, so `pad .Name "x" 1` fails the way Docker's does.
import { formatValue, sprint, sprintf, sprintln } from './go-fmt.js';
import { goTypeName, isInt, isObject, isTrue } from './values.js';

export type ParamKind = 'any' | 'string' | 'int' | 'bool' | 'strings';

export interface FuncDef {
  params: ParamKind[];
  /** Kind of the trailing variadic parameter, if any. */
  variadic?: ParamKind;
  fn: (...args: any[]) => unknown;
}

/** A caller's function: a bare function takes any arguments (Go: ...interface{}). */
export type FuncLike = FuncDef | ((...args: any[]) => unknown);

export function toFuncDef(f: FuncLike): FuncDef {
  return typeof f === 'function' ? { params: [], variadic: 'any', fn: f } : f;
}

// ---- comparison (Go's eq, ne, lt, le, gt, ge) ----------------------------------------------

type Kind = 'bool' | 'int' | 'float' | 'string' | 'nil' | 'invalid' | 'other';

function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (isInt(v)) return 'int';
  if (typeof v === 'number') return 'float';
  return 'other';
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = kindOf(a);
  for (const b of rest) {
    const k2 = kindOf(b);
    if (k1 !== k2) {
      if (k1 !== 'invalid' && k2 !== 'invalid' && k1 !== 'nil' && k2 !== 'nil') throw new Error('incompatible types for comparison');
      continue;
    }
    if (k1 === 'other') {
      if (Array.isArray(a) || isObject(a)) throw new Error(`non-comparable type ${formatValue(a, 'v', plainSpec)}: ${goTypeName(a)}`);
      if (a === b) return true;
      continue;
    }
    if (k1 === 'int' ? BigInt(a as number) === BigInt(b as number) : a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = kindOf(a);
  const k2 = kindOf(b);
  if (k1 === 'bool' || k1 === 'other' || k1 === 'nil' || k1 === 'invalid') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  if (k1 === 'int') return BigInt(a as number) < BigInt(b as number);
  if (k1 === 'string') return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) < 0;
  return (a as number) < (b as number);
}

const plainSpec = { plus: false, minus: false, sharp: false, space: false, zero: false };

// ---- index, slice, len ---------------------------------------------------------------------

function toIndex(i: unknown, what: string): number {
  if (i === null || i === undefined) throw new Error(`cannot index ${what} with nil`);
  if (!isInt(i)) throw new Error(`cannot index ${what} with type ${goTypeName(i)}`);
  return Number(i);
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('index of untyped nil');
  for (const ix of indexes) {
    if (item === null) throw new Error('index of nil pointer');
    if (Array.isArray(item) || typeof item === 'string') {
      const x = toIndex(ix, 'slice/array');
      const bytes = typeof item === 'string' ? Buffer.from(item) : undefined;
      const len = bytes ? bytes.length : (item as unknown[]).length;
      if (x < 0 || x >= len) throw new Error(`index out of range: ${x}`);
      item = bytes ? bytes[x] : (item as unknown[])[x];
    } else if (isObject(item)) {
      if (typeof ix !== 'string') throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      item = Object.hasOwn(item, ix) ? item[ix] : undefined;
    } else {
      throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = Buffer.byteLength(item);
  } else if (Array.isArray(item)) len = item.length;
  else throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const idx = [0, len];
  indexes.forEach((v, k) => {
    const x = toIndex(v, 'slice/array');
    if (x < 0 || x > len) throw new Error(`index out of range: ${x}`);
    idx[k] = x;
  });
  const [i, j] = idx as [number, number];
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`);
  if (indexes.length === 3 && (indexes[2] as number) < j) throw new Error(`invalid slice index: ${j} > ${indexes[2]}`);
  return typeof item === 'string' ? Buffer.from(item).subarray(i, j).toString('utf8') : item.slice(i, j);
}

function len(item: unknown): number {
  if (item === undefined) throw new Error('len of nil pointer');
  if (item === null) return 0; // a nil slice or map
  if (typeof item === 'string') return Buffer.byteLength(item);
  if (Array.isArray(item)) return item.length;
  if (isObject(item)) return Object.keys(item).length;
  throw new Error(`len of type ${goTypeName(item)}`);
}

// ---- escapers (html, js, urlquery) ---------------------------------------------------------

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/["'&<>\0]/g, (c) => ({ '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\ufffd' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const r of s) {
    const c = r.codePointAt(0)!;
    switch (r) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
    }
    if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (c >= 0x80 && !/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(r)) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += r;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ---- Docker's functions --------------------------------------------------------------------

/** encoding/json with SetEscapeHTML(false), as Docker's `json` function encodes. */
export function goJSON(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
  return (s ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  const isSeparator = (r: string): boolean => {
    const c = r.codePointAt(0)!;
    if (c <= 0x7f) return !/[A-Za-z0-9_]/.test(r);
    if (/[\p{L}\p{Nd}]/u.test(r)) return false;
    return /\s/u.test(r);
  };
  let prev = ' ';
  let out = '';
  for (const r of s) {
    out += isSeparator(prev) ? r.toUpperCase() : r;
    prev = r;
  }
  return out;
}

/** docker/cli's truncate: the first n bytes (cut back to a whole character here). */
function truncate(s: string, n: number): string {
  const bytes = Buffer.from(s);
  if (bytes.length < n) return s;
  if (n < 0) throw new Error(`runtime error: slice bounds out of range [:${n}]`);
  let end = n;
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function split(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
}

export const builtins: Record<string, FuncDef> = {
  // and, or: evaluated lazily in exec.ts; listed for the parser's "function not defined" check
  and: { params: ['any'], variadic: 'any', fn: () => undefined },
  or: { params: ['any'], variadic: 'any', fn: () => undefined },
  not: { params: ['any'], fn: (a: unknown) => !isTrue(a) },
  len: { params: ['any'], fn: len },
  index: { params: ['any'], variadic: 'any', fn: index },
  slice: { params: ['any'], variadic: 'any', fn: slice },
  print: { params: [], variadic: 'any', fn: (...a: unknown[]) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', fn: (f: string, ...a: unknown[]) => sprintf(f, a) },
  println: { params: [], variadic: 'any', fn: (...a: unknown[]) => sprintln(a) },
  html: { params: [], variadic: 'any', fn: (...a: unknown[]) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', fn: (...a: unknown[]) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', fn: (...a: unknown[]) => queryEscape(evalArgs(a)) },
  eq: { params: ['any'], variadic: 'any', fn: eq },
  ne: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: lt },
  le: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => lt(a, b) || eq(a, b) },
  gt: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !lt(a, b) && !eq(a, b) },
  ge: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !lt(a, b) },
  call: {
    params: ['any'],
    variadic: 'any',
    fn: (f: unknown, ...a: unknown[]) => {
      if (f === null || f === undefined) throw new Error('call of nil');
      if (typeof f !== 'function') throw new Error(`non-function of type ${goTypeName(f)}`);
      return f(...a);
    },
  },
};

export const dockerFuncs: Record<string, FuncDef> = {
  json: { params: ['any'], fn: goJSON },
  split: { params: ['string', 'string'], fn: split },
  join: { params: ['strings', 'string'], fn: (a: string[] | null, sep: string) => (a ?? []).join(sep) },
  title: { params: ['string'], fn: title },
  lower: { params: ['string'], fn: (s: string) => s.toLowerCase() },
  upper: { params: ['string'], fn: (s: string) => s.toUpperCase() },
  pad: { params: ['string', 'int', 'int'], fn: (s: string, p: number, q: number) => (s === '' ? s : ' '.repeat(Math.max(p, 0)) + s + ' '.repeat(Math.max(q, 0))) },
  truncate: { params: ['string', 'int'], fn: truncate },
};

/** docker/cli's HeaderFunctions: a table's header keeps the column names intact (pad is not among them). */
export const headerFuncs: Record<string, FuncDef> = {
  json: { params: ['string'], fn: (v: string) => v },
  split: { params: ['string', 'string'], fn: (v: string) => v },
  join: { params: ['string', 'string'], fn: (v: string) => v },
  title: { params: ['string'], fn: (v: string) => v },
  lower: { params: ['string'], fn: (v: string) => v },
  upper: { params: ['string'], fn: (v: string) => v },
  truncate: { params: ['string', 'int'], fn: (v: string) => v },
};
