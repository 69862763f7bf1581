/**
 * Tar headers: ustar blocks, PAX extended headers (with binary `SCHILY.xattr.*` values kept as
 * bytes) and GNU long names (`L`/`K`), as layers need them. Written here rather than taken from
 * npm (ECOSYSTEM.md): tar-stream decodes PAX values as UTF-8, which corrupts binary xattrs, and
 * node-tar drops xattrs, setuid bits and device nodes.
 */

export const BLOCK = 512;

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** One archive member, with its extended headers already folded in. */
export interface TarHeader {
  /** As stored, e.g. `etc/passwd` or `bin/`; PAX `path` or a GNU long name wins over ustar's. */
  name: string;
  type: EntryType;
  /** Permission bits incl. setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content that follow (regular files only; 0 otherwise). */
  size: number;
  /** Modification time, nanoseconds since the epoch (ustar: whole seconds; PAX: fractions). */
  mtimeNs: bigint;
  /** Hard link target (a member name) or symlink target. */
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes (`SCHILY.xattr.NAME`), values as raw bytes. */
  xattrs: Map<string, Buffer>;
}

export function header(h: Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>): TarHeader {
  return {
    mode: h.type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtimeNs: 0n, linkname: '',
    uname: '', gname: '', devmajor: 0, devminor: 0, xattrs: new Map(), ...h,
  };
}

const TYPE_FLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const FLAG_TYPE = new Map<string, EntryType>([
  ['0', 'file'], ['\0', 'file'], ['7', 'file'], ['1', 'link'], ['2', 'symlink'], ['3', 'char'],
  ['4', 'block'], ['5', 'dir'], ['6', 'fifo'],
]);

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

// --- fields ---------------------------------------------------------------------------------

function readString(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

/** Octal, or GNU base-256 when the first byte's high bit is set. */
function readNumber(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = b.toString('latin1', off, off + len).replace(/[\0 ]+.*$/s, '').trim();
  if (!s) return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`invalid number field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function writeString(b: Buffer, off: number, len: number, s: string): void {
  b.write(s, off, len, 'utf8');
}

/** Octal with a trailing NUL, when it fits (`len - 1` digits); false otherwise. */
function writeOctal(b: Buffer, off: number, len: number, v: number): boolean {
  const s = Math.trunc(v).toString(8);
  if (v < 0 || s.length > len - 1) return false;
  b.write(s.padStart(len - 1, '0') + '\0', off, len, 'latin1');
  return true;
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  return sum;
}

export const isZeroBlock = (b: Buffer): boolean => b.every((x) => x === 0);

// --- decoding -------------------------------------------------------------------------------

/** A raw header block, before extended headers are applied. */
export interface RawHeader {
  flag: string;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

export function decodeBlock(b: Buffer): RawHeader {
  const sum = readNumber(b, 148, 8);
  if (sum !== checksum(b)) throw new TarFormatError('invalid tar header checksum (not a tar archive, or corrupt)');
  const magic = b.toString('latin1', 257, 263);
  let name = readString(b, 0, 100);
  // ustar ("ustar\0") has a 155-byte prefix; GNU's "ustar  " uses those bytes otherwise.
  if (magic === 'ustar\0') {
    const prefix = readString(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    flag: String.fromCharCode(b[156]!),
    name,
    mode: readNumber(b, 100, 8) & 0o7777,
    uid: readNumber(b, 108, 8),
    gid: readNumber(b, 116, 8),
    size: readNumber(b, 124, 12),
    mtime: readNumber(b, 136, 12),
    linkname: readString(b, 157, 100),
    uname: readString(b, 265, 32),
    gname: readString(b, 297, 32),
    devmajor: readNumber(b, 329, 8),
    devminor: readNumber(b, 337, 8),
  };
}

/** PAX records `LEN KEY=VALUE\n`; values stay bytes (xattr values may be binary). */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // padding
    const sp = data.indexOf(0x20, i);
    const len = sp === -1 ? NaN : Number(data.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw new TarFormatError('invalid PAX extended header record');
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError('invalid PAX extended header record (no "=")');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

function paxTimeNs(v: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) throw new TarFormatError(`invalid PAX time ${JSON.stringify(v)}`);
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  return m[1] ? -ns : ns;
}

/** Applies PAX records (and GNU long names) onto a raw ustar header. */
export function toHeader(raw: RawHeader, pax: Map<string, Buffer>, longName?: string, longLink?: string): TarHeader {
  const type = FLAG_TYPE.get(raw.flag);
  if (!type) throw new TarFormatError(`unsupported tar entry type ${JSON.stringify(raw.flag)} for ${raw.name}`);
  const h = header({
    name: longName ?? raw.name, type, mode: raw.mode, uid: raw.uid, gid: raw.gid,
    size: type === 'file' ? raw.size : 0, mtimeNs: BigInt(raw.mtime) * 1_000_000_000n,
    linkname: longLink ?? raw.linkname, uname: raw.uname, gname: raw.gname,
    devmajor: raw.devmajor, devminor: raw.devminor,
  });
  for (const [k, v] of pax) {
    const s = (): string => v.toString('utf8');
    if (k === 'path') h.name = s();
    else if (k === 'linkpath') h.linkname = s();
    else if (k === 'size') h.size = type === 'file' ? Number(s()) : 0;
    else if (k === 'uid') h.uid = Number(s());
    else if (k === 'gid') h.gid = Number(s());
    else if (k === 'uname') h.uname = s();
    else if (k === 'gname') h.gname = s();
    else if (k === 'mtime') h.mtimeNs = paxTimeNs(s());
    else if (k.startsWith('SCHILY.xattr.')) h.xattrs.set(k.slice('SCHILY.xattr.'.length), v);
  }
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw new TarFormatError(`invalid size for ${h.name}`);
  return h;
}

// --- encoding -------------------------------------------------------------------------------

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  // The length counts its own digits.
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

function block(flag: string, h: TarHeader, name: string, prefix: string, linkname: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, 0, 100, name);
  writeOctal(b, 100, 8, h.mode & 0o7777);
  writeOctal(b, 108, 8, h.uid) || writeOctal(b, 108, 8, 0);
  writeOctal(b, 116, 8, h.gid) || writeOctal(b, 116, 8, 0);
  writeOctal(b, 124, 12, size) || writeOctal(b, 124, 12, 0);
  const secs = Number(h.mtimeNs / 1_000_000_000n);
  writeOctal(b, 136, 12, secs) || writeOctal(b, 136, 12, 0);
  b[156] = flag.charCodeAt(0);
  writeString(b, 157, 100, linkname);
  b.write('ustar\x0000', 257, 8, 'latin1');
  writeString(b, 265, 32, h.uname);
  writeString(b, 297, 32, h.gname);
  if (h.type === 'char' || h.type === 'block') {
    writeOctal(b, 329, 8, h.devmajor);
    writeOctal(b, 337, 8, h.devminor);
  }
  writeString(b, 345, 155, prefix);
  b.write(checksum(b).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** Splits a long name into ustar's prefix (≤155 bytes) and name (≤100 bytes), if it can. */
function splitName(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) > 155) break;
    if (rest && Buffer.byteLength(rest) <= 100) return [prefix, rest];
  }
  return undefined;
}

/**
 * The blocks for one member's header: a PAX extended header first when ustar cannot hold it
 * (long names, big numbers, sub-second times, xattrs), then the ustar block. Times are kept to
 * the nanosecond only through PAX; Docker truncates to seconds before calling this.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const records: Buffer[] = [];
  const str = (k: string, v: string): void => void records.push(paxRecord(k, Buffer.from(v)));
  const split = splitName(h.name);
  if (!split) str('path', h.name);
  if (Buffer.byteLength(h.linkname) > 100) str('linkpath', h.linkname);
  const size = h.type === 'file' ? h.size : 0;
  if (size > 0o77777777777) str('size', String(size));
  if (h.uid > 0o7777777) str('uid', String(h.uid));
  if (h.gid > 0o7777777) str('gid', String(h.gid));
  const frac = h.mtimeNs % 1_000_000_000n;
  if (frac !== 0n || h.mtimeNs < 0n || h.mtimeNs / 1_000_000_000n > 0o77777777777n) {
    const secs = h.mtimeNs / 1_000_000_000n;
    str('mtime', frac === 0n ? String(secs) : `${secs}.${String(frac < 0n ? -frac : frac).padStart(9, '0')}`);
  }
  for (const [k, v] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  }
  const [prefix, name] = split ?? ['', Buffer.from(h.name).subarray(0, 100).toString('utf8')];
  const linkname = Buffer.byteLength(h.linkname) > 100 ? Buffer.from(h.linkname).subarray(0, 100).toString('utf8') : h.linkname;
  const main = block(TYPE_FLAG[h.type], h, name, prefix, linkname, size);
  if (!records.length) return main;
  const data = Buffer.concat(records);
  const paxName = `PaxHeaders.0/${name}`.slice(0, 100);
  const paxHeader = block('x', header({ name: paxName, type: 'file', mode: 0o644, mtimeNs: h.mtimeNs - frac }), paxName, '', '', data.length);
  return Buffer.concat([paxHeader, data, Buffer.alloc(pad(data.length)), main]);
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export const padding = (size: number): Buffer => Buffer.alloc(pad(size));

/** The end of an archive: two zero blocks. */
export const END = Buffer.alloc(2 * BLOCK);
