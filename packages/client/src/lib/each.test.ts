import { afterEach, describe, expect, it, vi } from 'vitest';
import { inParallel, runLimited } from './each.js';
import type { Ctx } from './context.js';
import { ExitError } from './errors.js';

const ctx = { host: () => 'unix:///x.sock', api: () => { throw new Error('no api in this test'); } } as Ctx;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runLimited', () => {
  it('keeps at most `limit` calls in flight and settles each in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const rs = runLimited([5, 1, 3, 1, 2, 1], async (ms) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(ms);
      inFlight--;
      if (ms === 3) throw new Error('three');
    }, 3);
    const out = await Promise.all(rs);
    expect(peak).toBe(3);
    expect(out.map((s) => s.ok)).toEqual([true, true, false, true, true, true]);
  });
});

describe('inParallel', () => {
  afterEach(() => vi.restoreAllMocks());

  it('runs every call at once, prints names in argument order and one error line per failure, then exit 1', async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const started: string[] = [];
    const p = inParallel(ctx, ['a', 'bad', 'c', 'd'], async (n) => {
      started.push(n);
      await sleep(n === 'a' ? 60 : 10);
      if (n === 'bad') throw new Error('No such container: bad');
    });
    expect(started).toEqual(['a', 'bad', 'c', 'd']); // all in flight before the first ends
    await expect(p).rejects.toBeInstanceOf(ExitError);
    expect(out).toEqual(['a\n', 'c\n', 'd\n']);
    expect(err).toEqual(['No such container: bad\n']);
  });

  it('ends quietly when all succeed', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    await inParallel(ctx, ['x', 'y'], async () => undefined);
    expect(out).toEqual(['x\n', 'y\n']);
  });
});
