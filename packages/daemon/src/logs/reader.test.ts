import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLogs, type LogEntry } from './reader.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'berthd-log-'));
  dirs.push(d);
  return d;
}
const line = (text: string, sec: number, stream = 'stdout', extra: object = {}): string =>
  JSON.stringify({ log: text, stream, time: `2026-01-01T00:00:${String(sec).padStart(2, '0')}.000000001Z`, ...extra }) + '\n';
async function all(it: AsyncGenerator<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.stream}:${e.data.toString()}`);
  return out;
}

describe('readLogs', () => {
  it('reads rotated files oldest first, tail, since and until', async () => {
    const p = join(tmp(), 'c-json.log');
    writeFileSync(`${p}.2`, line('a\n', 1) + line('b\n', 2));
    writeFileSync(`${p}.1`, line('c\n', 3, 'stderr'));
    writeFileSync(p, line('d\n', 4) + line('e\n', 5));
    expect(await all(readLogs(p, { maxFiles: 3 }))).toEqual(['stdout:a\n', 'stdout:b\n', 'stderr:c\n', 'stdout:d\n', 'stdout:e\n']);
    expect(await all(readLogs(p, { maxFiles: 3, tail: 2 }))).toEqual(['stdout:d\n', 'stdout:e\n']);
    expect(await all(readLogs(p, { maxFiles: 3, tail: 0 }))).toEqual([]);
    const t = (s: number): bigint => BigInt(Date.parse(`2026-01-01T00:00:0${s}Z`)) * 1_000_000n;
    expect(await all(readLogs(p, { maxFiles: 3, sinceNs: t(3), untilNs: t(5) }))).toEqual(['stderr:c\n', 'stdout:d\n']);
  });

  it('gives the exact bytes of log_b64 entries and skips a torn line', async () => {
    const p = join(tmp(), 'c-json.log');
    writeFileSync(p, line('\ufffd', 1, 'stdout', { log_b64: Buffer.from([0xff, 0x0a]).toString('base64') }) + '{"log":"tor');
    const got: Buffer[] = [];
    for await (const e of readLogs(p)) got.push(e.data);
    expect(got).toEqual([Buffer.from([0xff, 0x0a])]);
  });

  it('follows across several rotations without losing a line', async () => {
    const p = join(tmp(), 'c-json.log');
    writeFileSync(p, line('1\n', 1));
    const ac = new AbortController();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(p, { maxFiles: 3, follow: true, pollMs: 20, signal: ac.signal })) {
        seen.push(e.data.toString().trim());
        if (seen.length === 5) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(p, line('2\n', 2));
    // Two rotations between polls: 1,2 → .2; 3 → .1; 4 in the live file; then 5.
    renameSync(p, `${p}.1`);
    writeFileSync(p, line('3\n', 3));
    renameSync(`${p}.1`, `${p}.2`);
    renameSync(p, `${p}.1`);
    writeFileSync(p, line('4\n', 4));
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(p, line('5\n', 5));
    await reader;
    expect(seen).toEqual(['1', '2', '3', '4', '5']);
  });

  it('ends a follow when the container is done and the log drained', async () => {
    const p = join(tmp(), 'c-json.log');
    writeFileSync(p, line('x\n', 1));
    let done = false;
    setTimeout(() => { appendFileSync(p, line('y\n', 2)); done = true; }, 50);
    expect(await all(readLogs(p, { follow: true, pollMs: 10, done: () => done }))).toEqual(['stdout:x\n', 'stdout:y\n']);
  });
});
