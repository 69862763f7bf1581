import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { LogEntry } from './log-writer.js';

export interface FollowOptions {
  /** Keep reading as the log grows and rotates, until `signal` aborts. */
  follow?: boolean;
  /** Start from the oldest rotated file (path.N ... path.1, path) rather than the live one. */
  fromOldest?: boolean;
  maxFiles?: number;
  signal?: AbortSignal;
  pollMs?: number;
}

const inode = (path: string): number | undefined => {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
};

/**
 * Reads a json-file log entry by entry, following it across rotation by name: when the name
 * points at a new file, the old one (held open) is read to its end first, then every file that
 * came after it, oldest first, so no line is skipped even if several rotations happened.
 */
export async function* readLog(path: string, opts: FollowOptions = {}): AsyncGenerator<LogEntry> {
  const maxFiles = opts.maxFiles ?? 1;
  const files = (): string[] => [...Array.from({ length: Math.max(0, maxFiles - 1) }, (_, i) => `${path}.${maxFiles - 1 - i}`), path];
  let queue = opts.fromOldest ? files().filter((f) => inode(f) !== undefined) : [path];
  const buf = Buffer.alloc(64 * 1024);
  while (!opts.signal?.aborted) {
    const name = queue.shift();
    if (name === undefined) return;
    let fd: number;
    try {
      fd = openSync(name, 'r');
    } catch {
      if (!opts.follow) continue;
      queue.unshift(name);
      await sleep(opts.pollMs ?? 50);
      continue;
    }
    const ino = fstatSync(fd).ino;
    const decoder = new StringDecoder('utf8');
    let held = '';
    let pos = 0;
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n > 0) {
          pos += n;
          held += decoder.write(buf.subarray(0, n));
          let nl: number;
          while ((nl = held.indexOf('\n')) >= 0) {
            const line = held.slice(0, nl);
            held = held.slice(nl + 1);
            if (line) yield JSON.parse(line) as LogEntry;
          }
          continue;
        }
        // At the end of this file.
        if (queue.length) break; // more files to read (catching up on rotated ones)
        if (!opts.follow || opts.signal?.aborted) return;
        if (inode(path) !== ino) {
          // Rotated: drain this file once more, then read what followed it.
          const again = readSync(fd, buf, 0, buf.length, pos);
          if (again > 0) {
            pos += again;
            held += decoder.write(buf.subarray(0, again));
            continue;
          }
          const all = files();
          const at = all.findIndex((f) => inode(f) === ino);
          queue = at >= 0 ? all.slice(at + 1) : [path];
          break;
        }
        await sleep(opts.pollMs ?? 50);
      }
    } finally {
      closeSync(fd);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
