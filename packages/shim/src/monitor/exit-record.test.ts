import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitRecordPath, readExitRecord, removeExitRecord, writeExitRecord, type ExitRecord } from './exit-record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-exit-'));
  dirs.push(d);
  return d;
};
const rec: ExitRecord = { pid: 42, exitStatus: 137, signal: 9, exitedAt: '2026-01-01T00:00:00.123456789Z', exitedAtNs: '1767225600123456789', oomKilled: true };

describe('exit record', () => {
  it('is written whole under its name and read back exactly, nanoseconds included', () => {
    const d = tmp();
    writeExitRecord(d, '', rec);
    expect(readExitRecord(d, '')).toEqual(rec);
    expect(readdirSync(d)).toEqual(['exit-init.json']); // no temporary file left
    writeExitRecord(d, 'my exec/1', { ...rec, pid: 43 });
    expect(readExitRecord(d, 'my exec/1')?.pid).toBe(43);
    expect(exitRecordPath(d, 'my exec/1')).toBe(join(d, 'exit-exec-my%20exec%2F1.json'));
  });

  it('a torn temporary file from a crash mid-write is no record; a rewrite replaces it', () => {
    const d = tmp();
    writeFileSync(exitRecordPath(d, '') + '.tmp', '{"pid": 4');
    expect(readExitRecord(d, '')).toBeUndefined();
    writeExitRecord(d, '', rec);
    expect(readExitRecord(d, '')).toEqual(rec);
    removeExitRecord(d, '');
    expect(existsSync(exitRecordPath(d, ''))).toBe(false);
  });
});
