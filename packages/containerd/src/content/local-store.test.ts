import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, UnavailableError } from '@berth/api/errdefs';
import { digestOf, LocalContentStore, writeBlob } from './index.js';

let root: string;
let store: LocalContentStore;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'berth-content-'));
  store = await new LocalContentStore(root).init();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const files = (dir: string): string[] => readdirSync(join(root, dir), { recursive: true }) as string[];

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  let s = '';
  for await (const c of it) s += c.toString();
  return s;
}

describe('LocalContentStore', () => {
  it('writes, verifies, reads (ranges too), lists, measures and deletes a blob', async () => {
    const data = Buffer.from('hello, layers');
    const d = digestOf(data);
    const info = await writeBlob(store, 'r1', data, { digest: d, size: data.length });
    expect(info).toMatchObject({ digest: d, size: data.length });
    expect(statSync(store.blobPath(d)).mode & 0o777).toBe(0o444);
    expect((await store.readAll(d)).toString()).toBe('hello, layers');
    expect(await collect(store.read(d, 7, 3))).toBe('lay');
    expect((await store.list()).map((i) => i.digest)).toEqual([d]);
    expect(await store.usage()).toEqual({ size: data.length, count: 1 });
    expect(files('ingest')).toEqual([]);
    await expect(store.writer('r2', { expected: d })).rejects.toThrow(AlreadyExistsError);
    await store.delete(d);
    await expect(store.info(d)).rejects.toThrow(NotFoundError);
  });

  it('a wrong digest or size leaves nothing: no blob, no ingest', async () => {
    const data = Buffer.from('payload');
    const wrong = digestOf('something else');
    await expect(writeBlob(store, 'bad-digest', data, { digest: wrong })).rejects.toThrow(/unexpected commit digest/);
    await expect(writeBlob(store, 'bad-size', data, { digest: digestOf(data), size: 99 })).rejects.toThrow(FailedPreconditionError);
    expect(files('blobs/sha256')).toEqual([]);
    expect(files('ingest')).toEqual([]);
    await expect(store.info(wrong)).rejects.toThrow(NotFoundError);
  });

  it('resumes an interrupted ingest from its offset, and locks a ref to one writer', async () => {
    const data = Buffer.from('0123456789abcdef');
    const w = await store.writer('resume-me', { total: data.length, expected: digestOf(data) });
    await w.write(data.subarray(0, 6));
    await expect(store.writer('resume-me')).rejects.toThrow(UnavailableError);
    await w.close();
    expect(await store.status('resume-me')).toMatchObject({ offset: 6, total: 16, expected: digestOf(data) });
    expect((await store.listStatuses()).map((s) => s.ref)).toEqual(['resume-me']);
    const w2 = await store.writer('resume-me');
    expect(w2.status().offset).toBe(6);
    await w2.write(data.subarray(6));
    const info = await w2.commit(0, '');
    expect(info.digest).toBe(digestOf(data));
    await expect(store.status('resume-me')).rejects.toThrow(NotFoundError);
  });

  it('refuses malformed digests', async () => {
    await expect(store.info('sha256:xyz')).rejects.toThrow(/invalid digest/);
    await expect(store.info('md5:00')).rejects.toThrow(/invalid digest/);
  });
});
