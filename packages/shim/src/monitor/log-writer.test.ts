import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLog } from './log-reader.js';
import { LogWriter, MAX_LINE, entryBytes, type LogEntry } from './log-writer.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-log-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const entries = (path: string): LogEntry[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);

describe('LogWriter', () => {
  it("writes Docker json-file lines: log, stream, time with nanoseconds; lines split across chunks join", () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path });
    w.write('stdout', Buffer.from('hel'), 1_700_000_000_123_456_789n);
    w.write('stderr', Buffer.from('oops\n'), 1_700_000_000_123_456_790n);
    w.write('stdout', Buffer.from('lo\nwor'), 1_700_000_000_123_456_791n);
    w.write('stdout', Buffer.from('ld\n'), 1_700_000_000_123_456_792n);
    w.close();
    expect(readFileSync(path, 'utf8')).toBe(
      '{"log":"oops\\n","stream":"stderr","time":"2023-11-14T22:13:20.123456790Z"}\n' +
        '{"log":"hello\\n","stream":"stdout","time":"2023-11-14T22:13:20.123456791Z"}\n' +
        '{"log":"world\\n","stream":"stdout","time":"2023-11-14T22:13:20.123456792Z"}\n',
    );
  });

  it('cuts a long line into partial 16 KiB pieces and flushes an unfinished line at the end of the stream', () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path });
    const big = Buffer.alloc(MAX_LINE * 3 + 100, 'a');
    for (let i = 0; i < big.length; i += 1000) w.write('stdout', big.subarray(i, i + 1000));
    w.write('stdout', Buffer.from('\nshort'));
    w.endStream('stdout');
    w.close();
    const e = entries(path);
    expect(e.map((x) => [x.log.length, x.partial ?? false])).toEqual([
      [MAX_LINE, true],
      [MAX_LINE, true],
      [MAX_LINE, true],
      [101, false],
      [5, true],
    ]);
    expect(Buffer.concat(e.map(entryBytes)).equals(Buffer.concat([big, Buffer.from('\nshort')]))).toBe(true);
  });

  it('keeps bytes that are not UTF-8 exactly, in log_b64', () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path });
    const bin = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d, 0x0a, 0xc3, 0xa9, 0x0a]);
    w.write('stdout', bin);
    w.close();
    const e = entries(path);
    expect(e).toHaveLength(2);
    expect(e[0]!.log_b64).toBe(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d, 0x0a]).toString('base64'));
    expect(e[1]).toMatchObject({ log: 'é\n' });
    expect(e[1]!.log_b64).toBeUndefined();
    expect(Buffer.concat(e.map(entryBytes)).equals(bin)).toBe(true);
  });

  it('rotates at max_size keeping max_files files, none larger than max_size', () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path, maxSize: 1000, maxFiles: 3 });
    for (let i = 0; i < 100; i++) w.write('stdout', Buffer.from(`line ${i}\n`));
    w.close();
    expect(existsSync(`${path}.3`)).toBe(false);
    const files = [`${path}.2`, `${path}.1`, path];
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
    const logs = files.flatMap(entries).map((e) => e.log);
    const first = Number(logs[0]!.split(' ')[1]);
    expect(logs).toEqual(Array.from({ length: 100 - first }, (_, i) => `line ${first + i}\n`));
  });

  it('max_files 1 truncates instead of keeping old files', () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path, maxSize: 200, maxFiles: 1 });
    for (let i = 0; i < 20; i++) w.write('stdout', Buffer.from(`line ${i}\n`));
    w.close();
    expect(existsSync(`${path}.1`)).toBe(false);
    expect(entries(path).at(-1)!.log).toBe('line 19\n');
  });

  it('a reader following by name misses nothing across several rotations', async () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path, maxSize: 2000, maxFiles: 5 });
    const ac = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of readLog(path, { follow: true, maxFiles: 5, signal: ac.signal, pollMs: 5 })) {
        got.push(e.log);
        if (got.length === 300) ac.abort();
      }
    })();
    for (let i = 0; i < 300; i++) {
      w.write('stdout', Buffer.from(`n ${i}\n`));
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
    ac.abort();
    w.close();
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => `n ${i}\n`));
  });

  it('a reader from the oldest file reads every kept file in order', async () => {
    const path = join(tmp(), 'log.json');
    const w = new LogWriter({ path, maxSize: 500, maxFiles: 10 });
    for (let i = 0; i < 50; i++) w.write('stderr', Buffer.from(`e ${i}\n`));
    w.close();
    const got: string[] = [];
    for await (const e of readLog(path, { fromOldest: true, maxFiles: 10 })) got.push(e.log);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `e ${i}\n`));
  });
});
