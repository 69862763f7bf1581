/**
 * Reads a container's json-file log as the shim writes it (packages/shim/README.md, "The
 * container's log"): `{"log","stream","time","partial"?,"log_b64"?}` lines in `path`, rotated to
 * `path.1` … `path.(maxFiles-1)`. Tail, since/until and follow across rotation: when the name
 * points at a new file, the held one is read to its end, then every newer file by index, so
 * no line is skipped however many rotations happened between two polls.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parseTimeNs } from '../container/record.js';

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

const inode = (p: string): number | undefined => {
  try {
    return statSync(p).ino;
  } catch {
    return undefined;
  }
};

export function parseEntry(line: string): LogEntry | undefined {
  let j: { log?: string; stream?: string; time?: string; partial?: boolean; log_b64?: string };
  try {
    j = JSON.parse(line) as typeof j;
  } catch {
    return undefined; // a torn last line: skipped, as Docker's reader does
  }
  return {
    stream: j.stream === 'stderr' ? 'stderr' : 'stdout',
    data: j.log_b64 ? Buffer.from(j.log_b64, 'base64') : Buffer.from(j.log ?? '', 'utf8'),
    timeNs: j.time ? parseTimeNs(j.time) : 0n,
    partial: Boolean(j.partial),
  };
}

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

/** Reads one open file from `pos` to its current end; returns complete lines and the new position. */
function drain(fd: number, pos: number, decoder: StringDecoder, held: { s: string }, buf: Buffer, out: string[]): number {
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) return pos;
    pos += n;
    held.s += decoder.write(buf.subarray(0, n));
    let nl: number;
    while ((nl = held.s.indexOf('\n')) >= 0) {
      const line = held.s.slice(0, nl);
      held.s = held.s.slice(nl + 1);
      if (line) out.push(line);
    }
  }
}

export async function* readLogs(path: string, o: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const maxFiles = Math.max(1, o.maxFiles ?? 1);
  const since = o.sinceNs ?? 0n;
  const until = o.untilNs ?? 0n;
  const keep = (e: LogEntry): boolean => e.timeNs >= since && (!until || e.timeNs < until);
  const buf = Buffer.alloc(64 * 1024);

  // 1. What is there now, oldest first; with tail, only the last n.
  const files = rotated(path, maxFiles);
  let current: { fd: number; ino: number; pos: number; decoder: StringDecoder; held: { s: string } } | undefined;
  const backlog: LogEntry[] = [];
  for (const f of files) {
    let fd: number;
    try {
      fd = openSync(f, 'r');
    } catch {
      continue;
    }
    const lines: string[] = [];
    const state = { fd, ino: fstatSync(fd).ino, pos: 0, decoder: new StringDecoder('utf8'), held: { s: '' } };
    state.pos = drain(fd, 0, state.decoder, state.held, buf, lines);
    for (const l of lines) {
      const e = parseEntry(l);
      if (e && keep(e)) backlog.push(e);
    }
    if (f === path) current = state;
    else closeSync(fd);
  }
  const start = o.tail !== undefined ? Math.max(0, backlog.length - o.tail) : 0;
  for (let i = start; i < backlog.length; i++) {
    if (o.signal?.aborted) break;
    yield backlog[i]!;
  }
  backlog.length = 0;
  if (!o.follow) {
    if (current) closeSync(current.fd);
    return;
  }

  // 2. Follow: poll the held file; on rotation drain it, then read the newer files in order.
  try {
    for (;;) {
      if (o.signal?.aborted) return;
      if (until && BigInt(Date.now()) * 1_000_000n >= until) return;
      if (!current) {
        try {
          const fd = openSync(path, 'r');
          current = { fd, ino: fstatSync(fd).ino, pos: 0, decoder: new StringDecoder('utf8'), held: { s: '' } };
        } catch {
          if (o.done?.()) return;
          await sleep(o.pollMs ?? 100, o.signal);
          continue;
        }
      }
      const lines: string[] = [];
      current.pos = drain(current.fd, current.pos, current.decoder, current.held, buf, lines);
      let emitted = false;
      for (const l of lines) {
        const e = parseEntry(l);
        if (!e) continue;
        if (until && e.timeNs >= until) return;
        if (e.timeNs >= since) {
          emitted = true;
          yield e;
        }
      }
      const nameIno = inode(path);
      if (nameIno !== undefined && nameIno !== current.ino) {
        // Rotated: the held file is drained. Where did it go? Newer files have lower indexes.
        const heldIno = current.ino;
        closeSync(current.fd);
        current = undefined;
        let j = maxFiles; // not found: every rotated file is newer than what we held
        for (let i = 1; i < maxFiles; i++) if (inode(`${path}.${i}`) === heldIno) j = i;
        for (let i = j - 1; i >= 1; i--) {
          let fd: number;
          try {
            fd = openSync(`${path}.${i}`, 'r');
          } catch {
            continue;
          }
          const more: string[] = [];
          drain(fd, 0, new StringDecoder('utf8'), { s: '' }, buf, more);
          closeSync(fd);
          for (const l of more) {
            const e = parseEntry(l);
            if (!e) continue;
            if (until && e.timeNs >= until) return;
            if (e.timeNs >= since) yield e;
          }
        }
        continue;
      }
      if (!emitted) {
        if (o.done?.()) {
          // One last drain: the exit is told after the output reached EOF (shim contract 8).
          const last: string[] = [];
          current.pos = drain(current.fd, current.pos, current.decoder, current.held, buf, last);
          for (const l of last) {
            const e = parseEntry(l);
            if (e && keep(e)) yield e;
          }
          return;
        }
        await sleep(o.pollMs ?? 100, o.signal);
      }
    }
  } finally {
    if (current) closeSync(current.fd);
  }
}
