import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { nowNs, rfc3339Nano } from './clock.js';

/** A line longer than this is cut into pieces flagged `partial` (Docker's 16 KiB). */
export const MAX_LINE = 16 * 1024;

export type Stream = 'stdout' | 'stderr';

export interface LogOptions {
  path: string;
  /** Rotate when the file would grow past this many bytes; 0: never. */
  maxSize?: number;
  /** Files kept in all, the live one included (path, path.1, ... path.N-1); at least 1. */
  maxFiles?: number;
  /** Reports write errors (the writer never throws at the container). */
  onError?: (err: Error) => void;
}

/** One line of the log as Docker's json-file writes it, plus Berth's two additions. */
export interface LogEntry {
  log: string;
  stream: Stream;
  time: string;
  /** The piece does not end a line: cut at MAX_LINE, or the stream ended without a newline. */
  partial?: true;
  /** The exact bytes, base64, when they are not UTF-8 (`log` then holds a lossy rendering). */
  log_b64?: string;
}

/** The exact bytes an entry stands for. */
export function entryBytes(e: LogEntry): Buffer {
  return e.log_b64 !== undefined ? Buffer.from(e.log_b64, 'base64') : Buffer.from(e.log, 'utf8');
}

/**
 * The container's log: JSON lines (Docker json-file compatible), written synchronously in the
 * order the bytes came, one write per batch, rotated by size. Memory is bounded: at most one
 * unfinished line (< MAX_LINE) per stream is held.
 */
export class LogWriter {
  private fd: number;
  private size: number;
  private readonly pending: Record<Stream, Buffer | undefined> = { stdout: undefined, stderr: undefined };
  private readonly maxSize: number;
  private readonly maxFiles: number;
  private closed = false;

  constructor(private readonly opts: LogOptions) {
    this.maxSize = opts.maxSize ?? 0;
    this.maxFiles = Math.max(1, opts.maxFiles ?? 1);
    this.fd = openSync(opts.path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** Takes bytes the container wrote; complete lines (and 16 KiB pieces) go to the file now. */
  write(stream: Stream, chunk: Buffer, timeNs: bigint = nowNs()): void {
    if (this.closed || chunk.length === 0) return;
    const held = this.pending[stream];
    const data = held ? Buffer.concat([held, chunk]) : chunk;
    const time = rfc3339Nano(timeNs);
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const nl = data.indexOf(10, pos);
      const end = nl < 0 ? data.length : nl + 1;
      if (nl >= 0 && end - pos <= MAX_LINE) {
        lines.push(encode(stream, data.subarray(pos, end), time, false));
        pos = end;
      } else if (end - pos >= MAX_LINE) {
        lines.push(encode(stream, data.subarray(pos, pos + MAX_LINE), time, true));
        pos += MAX_LINE;
      } else {
        break;
      }
    }
    // Copy what is held: the chunk's buffer may be reused by its reader.
    this.pending[stream] = pos < data.length ? Buffer.from(data.subarray(pos)) : undefined;
    this.append(lines);
  }

  /** The stream ended: what is held goes out as a partial line. */
  endStream(stream: Stream, timeNs: bigint = nowNs()): void {
    const held = this.pending[stream];
    this.pending[stream] = undefined;
    if (held && !this.closed) this.append([encode(stream, held, rfc3339Nano(timeNs), true)]);
  }

  close(): void {
    if (this.closed) return;
    this.endStream('stdout');
    this.endStream('stderr');
    this.closed = true;
    closeSync(this.fd);
  }

  private append(lines: string[]): void {
    let batch = '';
    for (const line of lines) {
      const len = Buffer.byteLength(line);
      if (this.maxSize > 0 && this.size + Buffer.byteLength(batch) + len > this.maxSize && this.size + batch.length > 0) {
        this.writeOut(batch);
        batch = '';
        this.rotate();
      }
      batch += line;
    }
    this.writeOut(batch);
  }

  private writeOut(text: string): void {
    if (!text) return;
    const buf = Buffer.from(text);
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
      this.size += buf.length;
    } catch (err) {
      this.opts.onError?.(err as Error); // a full disk loses lines, never the container
    }
  }

  /** path -> path.1 -> ... -> path.(maxFiles-1); the oldest goes. */
  private rotate(): void {
    const p = this.opts.path;
    try {
      closeSync(this.fd);
      if (this.maxFiles <= 1) {
        rmSync(p, { force: true });
      } else {
        rmSync(`${p}.${this.maxFiles - 1}`, { force: true });
        for (let i = this.maxFiles - 2; i >= 1; i--) {
          try {
            renameSync(`${p}.${i}`, `${p}.${i + 1}`);
          } catch {
            // not there yet
          }
        }
        renameSync(p, `${p}.1`);
      }
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
    this.fd = openSync(p, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }
}

function encode(stream: Stream, bytes: Buffer, time: string, partial: boolean): string {
  const entry: LogEntry = { log: bytes.toString('utf8'), stream, time };
  if (partial) entry.partial = true;
  if (!isUtf8(bytes)) entry.log_b64 = bytes.toString('base64');
  return JSON.stringify(entry) + '\n';
}
