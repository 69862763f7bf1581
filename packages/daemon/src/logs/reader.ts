/**
 * Reads a container's json-file log as the shim writes it (packages/shim/README.md, "The
 * container's log"): `{"log","stream","time","partial"?,"log_b64"?}` lines in `path`, rotated to
 * `path.1` … `path.(maxFiles-1)`. Tail, since/until and follow across rotation: when the name
 * points at a new file, the held one is read to its end, then every newer file by index, so
 * no line is skipped however many rotations happened between two polls.
 *
 * Lines come in blocks (one per read of up to CHUNK bytes), streamed as they are read: memory
 * stays bounded however big the log, and a consumer handles many lines per step. Without follow,
 * the live file is read up to the size it had when opened (a busy writer cannot keep the read
 * going forever). `--tail n` reads the files backwards and parses only what it needs.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { lineBytes, parseLines, streamOf, type LogLine } from './json-lines.js';
import { before, instantOf, LogTimes, type Instant } from './log-time.js';

export type { LogLine } from './json-lines.js';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  timeNs: bigint;
  partial: boolean;
}

export interface ReadLogOptions {
  maxFiles?: number;
  follow?: boolean;
  /** The last n entries (lines) of what matches since/until; undefined: all. */
  tail?: number;
  sinceNs?: bigint;
  /** Entries before this; in follow mode the stream also ends once the clock passes it. */
  untilNs?: bigint;
  signal?: AbortSignal;
  pollMs?: number;
  /** While following, stop once this returns true and the log has been drained (the container ended). */
  done?: () => boolean;
}

/** Bytes per read: big enough that per-block costs vanish, small enough to stream. */
export const CHUNK = 256 * 1024;
/** Lines per block handed on from a tail (read backwards, then given oldest first). */
const TAIL_BLOCK = 2048;

const inode = (p: string): number | undefined => {
  try {
    return statSync(p).ino;
  } catch {
    return undefined;
  }
};

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((r) => {
  const t = setTimeout(r, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
});

/** Files oldest first: path.(n-1) … path.1, path (only those that exist). */
function rotated(path: string, maxFiles: number): string[] {
  const out: string[] = [];
  for (let i = maxFiles - 1; i >= 1; i--) out.push(`${path}.${i}`);
  out.push(path);
  return out.filter((f) => inode(f) !== undefined);
}

/** An open log file read forwards in whole lines; an incomplete last line is held for the next read. */
class Cursor {
  private readonly decoder = new StringDecoder('utf8');
  private held = '';

  private constructor(readonly fd: number, readonly ino: number, public pos: number, private end: number) {}

  /** Opens `path` at `pos`; with `bounded`, reads stop at the size it has now. */
  static open(path: string, pos = 0, bounded = false): Cursor | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    const st = fstatSync(fd);
    return new Cursor(fd, st.ino, pos, bounded ? st.size : Infinity);
  }

  /** The next complete lines ("\n"-separated, no final newline), or undefined at the end for now. */
  next(buf: Buffer): string | undefined {
    for (;;) {
      const want = Math.min(buf.length, this.end - this.pos);
      if (want <= 0) return undefined;
      const n = readSync(this.fd, buf, 0, want, this.pos);
      if (n <= 0) return undefined;
      this.pos += n;
      const s = this.held + this.decoder.write(buf.subarray(0, n));
      const nl = s.lastIndexOf('\n');
      if (nl < 0) {
        this.held = s;
        continue;
      }
      this.held = s.slice(nl + 1);
      return s.slice(0, nl);
    }
  }

  /** From now on, reads go to the file's end, wherever it is then (follow). */
  unbound(): void {
    this.end = Infinity;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * The last `n` lines `keep` lets through, newest file first, read backwards; and, for follow,
 * a cursor on the live file just past its last complete line.
 */
function tailLines(files: string[], path: string, n: number, keep: (l: LogLine) => boolean, follow: boolean, buf: Buffer): { lines: LogLine[]; live?: Cursor } {
  const blocks: LogLine[][] = []; // newest first
  let got = 0;
  let live: Cursor | undefined;
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i]!;
    let fd: number;
    try {
      fd = openSync(f, 'r');
    } catch {
      continue;
    }
    try {
      const st = fstatSync(fd);
      // Only whole lines count: find the last newline (a torn or growing last line is not one).
      let end = st.size;
      let lastNl = -1;
      while (end > 0 && lastNl < 0) {
        const len = Math.min(buf.length, end);
        const r = readSync(fd, buf, 0, len, end - len);
        const k = buf.subarray(0, r).lastIndexOf(0x0a);
        if (k >= 0) lastNl = end - len + k;
        else end -= len;
      }
      if (f === path && follow) {
        live = Cursor.open(f, lastNl + 1);
      }
      // Backwards from lastNl: [pos, bound) holds whole lines once the first newline in it is found.
      let pos = lastNl + 1;
      let rest: Buffer = Buffer.alloc(0);
      while (pos > 0 && got < n) {
        const len = Math.min(buf.length, pos);
        pos -= len;
        const r = readSync(fd, buf, 0, len, pos);
        const data = rest.length ? Buffer.concat([buf.subarray(0, r), rest]) : Buffer.from(buf.subarray(0, r));
        const first = pos === 0 ? -1 : data.indexOf(0x0a);
        if (pos > 0 && first < 0) {
          rest = data; // one line longer than a block: keep going back
          continue;
        }
        rest = data.subarray(0, first + 1);
        const whole = data.subarray(first + 1);
        if (!whole.length) continue;
        const lines = parseLines(whole.toString('utf8', 0, whole.length - 1)).filter(keep);
        if (!lines.length) continue;
        blocks.push(lines);
        got += lines.length;
      }
    } finally {
      closeSync(fd);
    }
    if (got >= n) break;
  }
  const lines: LogLine[] = [];
  for (let i = blocks.length - 1; i >= 0; i--) for (const l of blocks[i]!) lines.push(l);
  return { lines: lines.slice(Math.max(0, lines.length - n)), live };
}

/** The log's lines in blocks, oldest first, with tail, since/until and follow applied. */
export async function* readLogLines(path: string, o: ReadLogOptions = {}): AsyncGenerator<LogLine[]> {
  const maxFiles = Math.max(1, o.maxFiles ?? 1);
  const times = new LogTimes();
  const since: Instant = instantOf(o.sinceNs ?? 0n);
  const until: Instant | undefined = o.untilNs ? instantOf(o.untilNs) : undefined;
  const bounded = Boolean(o.sinceNs) || until !== undefined;
  const keep = (l: LogLine): boolean => {
    if (!bounded) return true; // no time to read
    const t = times.instant(l.time ?? '');
    return !before(t, since) && (!until || before(t, until));
  };
  const buf = Buffer.allocUnsafe(CHUNK);
  let current: Cursor | undefined;

  try {
    // 1. What is there now, oldest first; with tail, only the last n.
    const files = rotated(path, maxFiles);
    if (o.tail !== undefined) {
      const t = tailLines(files, path, Math.max(0, o.tail), keep, Boolean(o.follow), buf);
      current = t.live;
      for (let i = 0; i < t.lines.length; i += TAIL_BLOCK) {
        if (o.signal?.aborted) return;
        yield t.lines.slice(i, i + TAIL_BLOCK);
      }
    } else {
      for (const f of files) {
        const c = Cursor.open(f, 0, true);
        if (!c) continue;
        if (f === path && o.follow) current = c; // closed in the finally below
        try {
          for (let text = c.next(buf); text !== undefined; text = c.next(buf)) {
            if (o.signal?.aborted) return;
            const lines = bounded ? parseLines(text).filter(keep) : parseLines(text);
            if (lines.length) yield lines;
          }
        } finally {
          if (c !== current) c.close();
        }
      }
      current?.unbound(); // follow goes on from where the bounded read stopped
    }
    if (!o.follow) return;

    // 2. Follow: poll the held file; on rotation drain it, then read the newer files in order.
    for (;;) {
      if (o.signal?.aborted) return;
      if (o.untilNs && BigInt(Date.now()) * 1_000_000n >= o.untilNs) return;
      if (!current) {
        current = Cursor.open(path);
        if (!current) {
          if (o.done?.()) return;
          await sleep(o.pollMs ?? 100, o.signal);
          continue;
        }
      }
      let emitted = false;
      for (let text = current.next(buf); text !== undefined; text = current.next(buf)) {
        const r = sinceUntil(parseLines(text));
        if (r.lines.length) {
          emitted = true;
          yield r.lines;
        }
        if (r.ended) return;
      }
      const nameIno = inode(path);
      if (nameIno !== undefined && nameIno !== current.ino) {
        // Rotated: the held file is drained. Where did it go? Newer files have lower indexes.
        const heldIno = current.ino;
        current.close();
        current = undefined;
        let j = maxFiles; // not found: every rotated file is newer than what we held
        for (let i = 1; i < maxFiles; i++) if (inode(`${path}.${i}`) === heldIno) j = i;
        for (let i = j - 1; i >= 1; i--) {
          const c = Cursor.open(`${path}.${i}`);
          if (!c) continue;
          try {
            for (let text = c.next(buf); text !== undefined; text = c.next(buf)) {
              const r = sinceUntil(parseLines(text));
              if (r.lines.length) yield r.lines;
              if (r.ended) return;
            }
          } finally {
            c.close();
          }
        }
        continue;
      }
      if (!emitted) {
        if (o.done?.()) {
          // One last drain: the exit is told after the output reached EOF (shim contract 8).
          for (let text = current.next(buf); text !== undefined; text = current.next(buf)) {
            const lines = parseLines(text).filter(keep);
            if (lines.length) yield lines;
          }
          return;
        }
        await sleep(o.pollMs ?? 100, o.signal);
      }
    }
  } finally {
    current?.close();
  }

  /** While following: lines at or after since; a line at or after until ends the stream. */
  function sinceUntil(lines: LogLine[]): { lines: LogLine[]; ended: boolean } {
    if (!bounded) return { lines, ended: false };
    const out: LogLine[] = [];
    for (const l of lines) {
      const t = times.instant(l.time ?? '');
      if (until && !before(t, until)) return { lines: out, ended: true };
      if (!before(t, since)) out.push(l);
    }
    return { lines: out, ended: false };
  }
}

/** The log's entries one by one (readLogLines, each line as bytes and a time). */
export async function* readLogs(path: string, o: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const times = new LogTimes();
  for await (const block of readLogLines(path, o)) {
    for (const l of block) {
      yield { stream: streamOf(l), data: lineBytes(l), timeNs: l.time ? times.ns(l.time) : 0n, partial: Boolean(l.partial) };
    }
  }
}
