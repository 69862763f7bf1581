/**
 * The content store on disk, laid out as containerd's local store:
 *
 *   <root>/blobs/sha256/<hex>       committed blobs, read-only (0444), immutable
 *   <root>/ingest/<sha256(ref)>/    one ingest: data, ref, total, expected, startedat
 *
 * A blob appears only by rename(2) of a fully written, fsynced and verified ingest, so a reader
 * never sees a partial blob and a crash leaves at most an ingest (resumable, or collected).
 * A resumed ingest re-hashes what it already holds (Node's hashes cannot be saved).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, UnavailableError } from '@berth/api/errdefs';
import type { ContentStore, Info, Status, Writer, WriterOptions } from './content.js';
import { parseDigest } from './digest.js';

const isEnoent = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT';

export class LocalContentStore implements ContentStore {
  private readonly locked = new Set<string>();

  constructor(readonly root: string) {}

  /** Makes the directories; call once before use. */
  async init(): Promise<this> {
    await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
    await mkdir(join(this.root, 'ingest'), { recursive: true });
    return this;
  }

  /** The blob's path (for readers that need a file, e.g. an export). */
  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', parseDigest(digest).hex);
  }

  private ingestDir(ref: string): string {
    return join(this.root, 'ingest', createHash('sha256').update(ref).digest('hex'));
  }

  async info(digest: string): Promise<Info> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size, createdAt: st.mtime, updatedAt: st.mtime, labels: {} };
    } catch (e) {
      if (isEnoent(e)) throw new NotFoundError(`content ${digest}: not found`);
      throw e;
    }
  }

  async exists(digest: string): Promise<boolean> {
    return this.info(digest).then(() => true, (e: unknown) => (e instanceof NotFoundError ? false : Promise.reject(e)));
  }

  async list(): Promise<Info[]> {
    const names = await readdir(join(this.root, 'blobs', 'sha256'));
    const out: Info[] = [];
    for (const n of names.sort()) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      try {
        out.push(await this.info(`sha256:${n}`));
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e; // deleted meanwhile
      }
    }
    return out;
  }

  async delete(digest: string): Promise<void> {
    try {
      await rm(this.blobPath(digest));
    } catch (e) {
      if (isEnoent(e)) throw new NotFoundError(`content ${digest}: not found`);
      throw e;
    }
  }

  async *read(digest: string, offset = 0, length = 0): AsyncIterable<Buffer> {
    const info = await this.info(digest);
    if (offset > info.size) throw new FailedPreconditionError(`content ${digest}: offset ${offset} beyond size ${info.size}`);
    if (offset === info.size) return;
    const end = length > 0 ? Math.min(info.size, offset + length) - 1 : undefined;
    yield* createReadStream(this.blobPath(digest), { start: offset, end, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  }

  async readAll(digest: string): Promise<Buffer> {
    await this.info(digest);
    return readFile(this.blobPath(digest));
  }

  async usage(): Promise<{ size: number; count: number }> {
    const all = await this.list();
    return { size: all.reduce((n, i) => n + i.size, 0), count: all.length };
  }

  async status(ref: string): Promise<Status> {
    const dir = this.ingestDir(ref);
    try {
      const [st, total, expected, started] = await Promise.all([
        stat(join(dir, 'data')),
        readFile(join(dir, 'total'), 'utf8'),
        readFile(join(dir, 'expected'), 'utf8'),
        readFile(join(dir, 'startedat'), 'utf8'),
      ]);
      return { ref, offset: st.size, total: Number(total), expected, startedAt: new Date(started), updatedAt: st.mtime };
    } catch (e) {
      if (isEnoent(e)) throw new NotFoundError(`ingest ${ref}: not found`);
      throw e;
    }
  }

  async listStatuses(): Promise<Status[]> {
    const out: Status[] = [];
    for (const d of await readdir(join(this.root, 'ingest'))) {
      try {
        out.push(await this.status(await readFile(join(this.root, 'ingest', d, 'ref'), 'utf8')));
      } catch (e) {
        if (!isEnoent(e) && !(e instanceof NotFoundError)) throw e;
      }
    }
    return out;
  }

  async abort(ref: string): Promise<void> {
    if (this.locked.has(ref)) throw new UnavailableError(`ingest ${ref}: locked by a writer`);
    const dir = this.ingestDir(ref);
    try {
      await stat(dir);
    } catch (e) {
      if (isEnoent(e)) throw new NotFoundError(`ingest ${ref}: not found`);
      throw e;
    }
    await rm(dir, { recursive: true, force: true });
  }

  /** Whether a writer holds `ref` now (GC leaves those alone). */
  isLocked(ref: string): boolean {
    return this.locked.has(ref);
  }

  async writer(ref: string, opts: WriterOptions = {}): Promise<Writer> {
    if (!ref) throw new FailedPreconditionError('content writer: a ref is required');
    if (opts.expected) {
      parseDigest(opts.expected);
      if (await this.exists(opts.expected)) throw new AlreadyExistsError(`content ${opts.expected}: already exists`);
    }
    if (this.locked.has(ref)) throw new UnavailableError(`ingest ${ref}: locked by another writer (try again)`);
    this.locked.add(ref);
    try {
      const dir = this.ingestDir(ref);
      await mkdir(dir, { recursive: true });
      const hash = createHash('sha256');
      let offset = 0;
      let startedAt = new Date();
      try {
        // Resuming: re-hash what is there and carry on after it.
        startedAt = new Date(await readFile(join(dir, 'startedat'), 'utf8'));
        for await (const c of createReadStream(join(dir, 'data'), { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          hash.update(c);
          offset += c.length;
        }
      } catch (e) {
        if (!isEnoent(e)) throw e;
        await writeFile(join(dir, 'ref'), ref);
        await writeFile(join(dir, 'startedat'), startedAt.toISOString());
        await writeFile(join(dir, 'data'), '');
      }
      const prevTotal = await readFile(join(dir, 'total'), 'utf8').catch(() => '0');
      const prevExpected = await readFile(join(dir, 'expected'), 'utf8').catch(() => '');
      const total = opts.total ?? Number(prevTotal);
      const expected = opts.expected ?? prevExpected;
      await writeFile(join(dir, 'total'), String(total));
      await writeFile(join(dir, 'expected'), expected);
      const fh = await open(join(dir, 'data'), 'a');
      return new IngestWriter(this, ref, dir, fh, hash, offset, total, expected, startedAt);
    } catch (e) {
      this.locked.delete(ref);
      throw e;
    }
  }

  /** @internal Called by a writer when it lets go of its ref. */
  release(ref: string): void {
    this.locked.delete(ref);
  }
}

class IngestWriter implements Writer {
  private closed = false;
  private final = '';
  private updatedAt = new Date();

  constructor(
    private readonly store: LocalContentStore,
    readonly ref: string,
    private readonly dir: string,
    private readonly fh: FileHandle,
    private readonly hash: Hash,
    private offset: number,
    private readonly total: number,
    private readonly expected: string,
    private readonly startedAt: Date,
  ) {}

  status(): Status {
    return { ref: this.ref, offset: this.offset, total: this.total, expected: this.expected, startedAt: this.startedAt, updatedAt: this.updatedAt };
  }

  digest(): string {
    if (this.final) return this.final;
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.closed) throw new FailedPreconditionError(`ingest ${this.ref}: writer is closed`);
    await this.fh.write(chunk);
    this.hash.update(chunk);
    this.offset += chunk.length;
    this.updatedAt = new Date();
  }

  async commit(size: number, expected: string, labels: Record<string, string> = {}): Promise<Info> {
    if (this.closed) throw new FailedPreconditionError(`ingest ${this.ref}: writer is closed`);
    this.closed = true;
    try {
      const want = expected || this.expected;
      const wantSize = size || this.total;
      const got = (this.final = `sha256:${this.hash.digest('hex')}`);
      let problem = '';
      if (wantSize > 0 && this.offset !== wantSize) problem = `unexpected commit size ${this.offset}, expected ${wantSize}`;
      else if (want && got !== want) problem = `unexpected commit digest ${got}, expected ${want}`;
      if (problem) {
        await this.fh.close();
        await rm(this.dir, { recursive: true, force: true });
        throw new FailedPreconditionError(`content ${this.ref}: ${problem}; the ingest was removed`);
      }
      await this.fh.sync();
      await this.fh.chmod(0o444);
      await this.fh.close();
      const target = this.store.blobPath(got);
      if (await this.store.exists(got)) {
        await rm(this.dir, { recursive: true, force: true });
        throw new AlreadyExistsError(`content ${got}: already exists`);
      }
      await rename(join(this.dir, 'data'), target);
      await rm(this.dir, { recursive: true, force: true });
      const info = await this.store.info(got);
      return { ...info, labels };
    } finally {
      this.store.release(this.ref);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
    this.store.release(this.ref);
  }
}

/** Writes a whole stream as one blob (resuming `ref` if an ingest is there); AlreadyExists is success. */
export async function writeBlob(store: ContentStore, ref: string, data: AsyncIterable<Buffer> | Buffer, expected?: { digest?: string; size?: number }): Promise<Info> {
  let w: Writer;
  try {
    w = await store.writer(ref, { expected: expected?.digest, total: expected?.size });
  } catch (e) {
    if (e instanceof AlreadyExistsError && expected?.digest) return store.info(expected.digest);
    throw e;
  }
  try {
    let skip = w.status().offset;
    for await (const chunk of Buffer.isBuffer(data) ? [data] : data) {
      // A resumed ingest already holds the first `skip` bytes.
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      await w.write(skip ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    return await w.commit(expected?.size ?? 0, expected?.digest ?? '');
  } catch (e) {
    await w.close();
    if (e instanceof AlreadyExistsError) return store.info(w.digest());
    throw e;
  }
}
