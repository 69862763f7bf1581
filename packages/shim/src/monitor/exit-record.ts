import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** How a process ended, as the shim keeps it on disk (`<bundle>/shim/exit-<init|exec id>.json`). */
export interface ExitRecord {
  pid: number;
  /** The code, or 128+signal. */
  exitStatus: number;
  /** The signal that killed it, 0 if it exited. */
  signal: number;
  /** RFC 3339 with nanoseconds. */
  exitedAt: string;
  /** Nanoseconds since the epoch, as a decimal string (too big for a JSON number). */
  exitedAtNs: string;
  oomKilled: boolean;
}

/** The record's file name: exec ids are the client's, so they are encoded. */
export function exitRecordPath(dir: string, execId: string): string {
  return join(dir, execId ? `exit-exec-${encodeURIComponent(execId)}.json` : 'exit-init.json');
}

/**
 * Writes the record durably: a temporary file, fsync, rename over the name, fsync the directory.
 * A crash at any point leaves either no record or the whole one, never a torn file.
 */
export function writeExitRecord(dir: string, execId: string, record: ExitRecord): void {
  const path = exitRecordPath(dir, execId);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(record) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
}

export function readExitRecord(dir: string, execId: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(exitRecordPath(dir, execId), 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

export function removeExitRecord(dir: string, execId: string): void {
  rmSync(exitRecordPath(dir, execId), { force: true });
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
