import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTimeNs } from '../container/record.js';
import { CHUNK, readLogLines, readLogs, type LogEntry } from './reader.js';

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

  it('gives what a whole read would, with tail, since and until, across files and blocks (lines longer than a block too)', async () => {
    const p = join(tmp(), 'c-json.log');
    // 3 files, ~3 blocks in all, some lines longer than a block, a torn last line in the live file.
    let sec = 0;
    const file = (n: number, torn = ''): string => {
      let s = '';
      for (let i = 0; i < n; i++) {
        sec++;
        const text = i % 97 === 5 ? 'L'.repeat(CHUNK + 100) + '\n' : `${'é'.repeat(i % 7)}${sec}\n`;
        s += JSON.stringify({ log: text, stream: i % 5 ? 'stdout' : 'stderr', time: `2026-01-01T00:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}.${String(sec).padStart(9, '0')}Z` }) + '\n';
      }
      return s + torn;
    };
    writeFileSync(`${p}.2`, file(3000));
    writeFileSync(`${p}.1`, file(10));
    writeFileSync(p, file(2500, '{"log":"torn'));
    // The reference: every whole line of every file, parsed one by one.
    const every = [`${p}.2`, `${p}.1`, p].flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(0, -1)).map((l) => JSON.parse(l) as { log: string; time: string });
    const ns = (e: { time: string }): bigint => parseTimeNs(e.time);
    const want = (o: { tail?: number; since?: bigint; until?: bigint }): string[] => {
      const kept = every.filter((e) => ns(e) >= (o.since ?? 0n) && (!o.until || ns(e) < o.until)).map((e) => e.log);
      return o.tail === undefined ? kept : kept.slice(Math.max(0, kept.length - o.tail));
    };
    const got = async (o: { tail?: number; since?: bigint; until?: bigint }): Promise<string[]> => {
      const out: string[] = [];
      for await (const b of readLogLines(p, { maxFiles: 3, tail: o.tail, sinceNs: o.since, untilNs: o.until })) for (const l of b) out.push(l.log!);
      return out;
    };
    const mid = ns(every[2000]!);
    const late = ns(every[5200]!);
    for (const o of [{}, { tail: 0 }, { tail: 1 }, { tail: 2400 }, { tail: 2600 }, { tail: 100_000 }, { since: mid }, { until: late }, { since: mid, until: late, tail: 700 }, { until: mid, tail: 3 }]) {
      expect(await got(o), JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toEqual(want(o));
    }
  });

  it('without follow, reads the live file only up to the size it had', async () => {
    const p = join(tmp(), 'c-json.log');
    let s = '';
    for (let i = 0; i < 20_000; i++) s += line(`${i}\n`, 1);
    writeFileSync(p, s);
    let n = 0;
    for await (const b of readLogLines(p)) {
      n += b.length;
      appendFileSync(p, line('more\n', 2)); // a busy writer
    }
    expect(n).toBe(20_000);
  });

  it('follows from the end of a tail, the torn line included once it is whole', async () => {
    const p = join(tmp(), 'c-json.log');
    writeFileSync(p, line('a\n', 1) + line('b\n', 2) + '{"log":"c\\n","stream":"stdout",');
    const ac = new AbortController();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(p, { tail: 1, follow: true, pollMs: 10, signal: ac.signal })) {
        seen.push(e.data.toString());
        if (seen.length === 3) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    appendFileSync(p, '"time":"2026-01-01T00:00:03Z"}\n' + line('d\n', 4));
    await reader;
    expect(seen).toEqual(['b\n', 'c\n', 'd\n']);
  });
});
