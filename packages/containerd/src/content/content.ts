/**
 * The content store's contract, as containerd's core/content: immutable blobs addressed by
 * digest, written through ingests that become visible only once their size and digest check out.
 */

/** A committed blob. */
export interface Info {
  digest: string;
  size: number;
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

/** An ingest in progress (resumable by its ref). */
export interface Status {
  ref: string;
  /** Bytes written so far; a resumed write continues here. */
  offset: number;
  /** Expected total size, 0 if unknown. */
  total: number;
  /** Expected digest, '' if unknown. */
  expected: string;
  startedAt: Date;
  updatedAt: Date;
}

export interface WriterOptions {
  /** Expected digest: checked at commit; an existing blob with it makes writer() fail AlreadyExists. */
  expected?: string;
  /** Expected size, checked at commit. */
  total?: number;
}

/** One ingest, held exclusively until closed or committed. */
export interface Writer {
  readonly ref: string;
  status(): Status;
  /** The digest of what was written so far. */
  digest(): string;
  /** Appends at the current offset. */
  write(chunk: Buffer): Promise<void>;
  /**
   * Verifies size (if > 0) and digest (if given) and makes the blob visible atomically. A mismatch
   * removes the ingest: nothing is left.
   */
  commit(size: number, expected: string, labels?: Record<string, string>): Promise<Info>;
  /** Releases the ingest without committing; it can be resumed later by its ref. */
  close(): Promise<void>;
}

export interface ContentStore {
  info(digest: string): Promise<Info>;
  list(): Promise<Info[]>;
  delete(digest: string): Promise<void>;
  /** The blob's bytes from `offset`, streamed. */
  read(digest: string, offset?: number, length?: number): AsyncIterable<Buffer>;
  readAll(digest: string): Promise<Buffer>;
  /** Opens (or resumes) the ingest `ref`; fails Unavailable while another writer holds it. */
  writer(ref: string, opts?: WriterOptions): Promise<Writer>;
  status(ref: string): Promise<Status>;
  listStatuses(): Promise<Status[]>;
  abort(ref: string): Promise<void>;
  /** Bytes and blobs stored. */
  usage(): Promise<{ size: number; count: number }>;
}
