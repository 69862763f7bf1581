import { describe, expect, it } from 'vitest';
import { parseTimeNs, rfc3339Nano } from '../container/record.js';
import { parseLines } from './json-lines.js';
import { LogTimes } from './log-time.js';
import { toRuns } from './runs.js';

const t = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000001Z`;
const block = [
  { log: 'a\n', stream: 'stdout', time: t(1) },
  { log: 'é\n', stream: 'stdout', time: t(2) },
  { log: 'err\n', stream: 'stderr', time: t(3) },
  { log: '\ufffd', stream: 'stdout', time: t(4), log_b64: Buffer.from([0xff]).toString('base64') },
  { log: 'part', stream: 'stdout', time: t(5), partial: true },
  { log: 'b\n', stream: 'stdout', time: t(6) },
].map((x) => JSON.stringify(x)).join('\n');

describe('toRuns', () => {
  it('joins consecutive entries of a stream, keeping the exact bytes and the order', () => {
    const runs = toRuns(parseLines(block), { stdout: true, stderr: true, timestamps: false }, new LogTimes());
    expect(runs.map((r) => [r.stream, r.data])).toEqual([
      ['stdout', Buffer.from('a\né\n')],
      ['stderr', Buffer.from('err\n')],
      ['stdout', Buffer.concat([Buffer.from([0xff]), Buffer.from('partb\n')])],
    ]);
    expect(runs.map((r) => r.lastTimeNs)).toEqual([t(2), t(3), t(6)].map((s) => parseTimeNs(s).toString()));
  });

  it('prefixes every entry with its time when asked, and leaves out an unwanted stream', () => {
    const runs = toRuns(parseLines(block), { stdout: true, stderr: false, timestamps: true }, new LogTimes());
    const ts = (s: number): string => `${rfc3339Nano(parseTimeNs(t(s)))} `;
    expect(runs.length).toBe(1);
    expect(runs[0]!.data).toEqual(Buffer.concat([
      Buffer.from(`${ts(1)}a\n${ts(2)}é\n${ts(4)}`), Buffer.from([0xff]), Buffer.from(`${ts(5)}part${ts(6)}b\n`),
    ]));
    expect(toRuns(parseLines(block), { stdout: false, stderr: false, timestamps: false }, new LogTimes())).toEqual([]);
  });
});

describe('runs against one entry per message (what older clients get)', () => {
  it('give the same bytes on each stream, with and without timestamps, for a log of every kind of entry', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readLogLines, readLogs } = await import('./reader.js');
    const dir = mkdtempSync(join(tmpdir(), 'berthd-runs-'));
    try {
      const p = join(dir, 'c-json.log');
      let s = '';
      for (let i = 0; i < 5000; i++) {
        const time = `2026-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i * 1000).padStart(9, '0')}Z`;
        const e: Record<string, unknown> = { log: i % 13 === 0 ? `ü${i}` : `line ${i}\n`, stream: i % 3 ? 'stdout' : 'stderr', time };
        if (i % 13 === 0) e.partial = true;
        if (i % 101 === 0) e.log_b64 = Buffer.from([0xfe, i & 0xff, 0x0a]).toString('base64');
        s += JSON.stringify(e) + '\n';
      }
      writeFileSync(p, s);
      for (const timestamps of [false, true]) {
        const old = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        for await (const e of readLogs(p)) old[e.stream].push(timestamps ? Buffer.concat([Buffer.from(`${rfc3339Nano(e.timeNs)} `), e.data]) : e.data);
        const now = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        const times = new LogTimes();
        for await (const b of readLogLines(p)) for (const r of toRuns(b, { stdout: true, stderr: true, timestamps }, times)) now[r.stream].push(r.data);
        expect(Buffer.concat(now.stdout).equals(Buffer.concat(old.stdout))).toBe(true);
        expect(Buffer.concat(now.stderr).equals(Buffer.concat(old.stderr))).toBe(true);
        expect(Buffer.concat(old.stdout).length).toBeGreaterThan(10_000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
