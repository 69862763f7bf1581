/**
 * berth-containerd's metadata: one SQLite database (better-sqlite3, WAL, synchronous=FULL) under
 * --root. Every change that must be seen together (an exit and its event and the shim's acked
 * sequence number) is one transaction, so a kill -9 at any point leaves either all or nothing.
 * Times are nanoseconds since the epoch, kept as decimal text (they overflow a double).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@berth/api/errdefs';

export type ProcessStatus = 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

export interface RuntimeRecord {
  name: string;
  path: string;
  args: string[];
}

export interface NamespaceRecord {
  name: string;
  labels: Record<string, string>;
  createdAt: bigint;
}

export interface ContainerRecord {
  namespace: string;
  id: string;
  image: string;
  runtime: RuntimeRecord;
  spec: Buffer;
  rootfs: string;
  snapshotter: string;
  snapshotKey: string;
  labels: Record<string, string>;
  createdAt: bigint;
  updatedAt: bigint;
}

/** A task: where its shim is and how far its events have been recorded. */
export interface TaskRecord {
  namespace: string;
  containerId: string;
  bundle: string;
  logPath: string;
  shimPid: number;
  shimAddress: string;
  /** The last shim event sequence number recorded (and so the Events(after_seq) to resume from). */
  shimSeq: number;
  terminal: boolean;
  stdin: boolean;
  createdAt: bigint;
}

/** The init (execId '') or an exec'd process. */
export interface ProcessRecord {
  namespace: string;
  containerId: string;
  execId: string;
  pid: number;
  status: ProcessStatus;
  terminal: boolean;
  exitStatus: number;
  exitSignal: number;
  exitedAt: bigint;
  oomKilled: boolean;
  reason: string;
}

export const DEFAULT_NAMESPACE = 'default';
/** How many events are kept for subscribers that resume (Subscribe with replay). */
export const KEPT_EVENTS = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS namespaces (
  name TEXT PRIMARY KEY, labels TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS containers (
  namespace TEXT NOT NULL REFERENCES namespaces(name), id TEXT NOT NULL,
  image TEXT NOT NULL, runtime TEXT NOT NULL, spec BLOB NOT NULL, rootfs TEXT NOT NULL,
  snapshotter TEXT NOT NULL, snapshot_key TEXT NOT NULL, labels TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (namespace, id));
CREATE TABLE IF NOT EXISTS tasks (
  namespace TEXT NOT NULL, container_id TEXT NOT NULL,
  bundle TEXT NOT NULL, log_path TEXT NOT NULL, shim_pid INTEGER NOT NULL, shim_address TEXT NOT NULL,
  shim_seq INTEGER NOT NULL, terminal INTEGER NOT NULL, stdin INTEGER NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (namespace, container_id),
  FOREIGN KEY (namespace, container_id) REFERENCES containers(namespace, id));
CREATE TABLE IF NOT EXISTS processes (
  namespace TEXT NOT NULL, container_id TEXT NOT NULL, exec_id TEXT NOT NULL,
  pid INTEGER NOT NULL, status TEXT NOT NULL, terminal INTEGER NOT NULL,
  exit_status INTEGER NOT NULL, exit_signal INTEGER NOT NULL, exited_at TEXT NOT NULL,
  oom_killed INTEGER NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY (namespace, container_id, exec_id),
  FOREIGN KEY (namespace, container_id) REFERENCES tasks(namespace, container_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL);
`;

type Row = Record<string, unknown>;
const json = (v: unknown): string => JSON.stringify(v);
const big = (v: unknown): bigint => BigInt(String(v ?? '0'));

function toContainer(r: Row): ContainerRecord {
  return {
    namespace: String(r.namespace), id: String(r.id), image: String(r.image),
    runtime: JSON.parse(String(r.runtime)) as RuntimeRecord, spec: r.spec as Buffer,
    rootfs: String(r.rootfs), snapshotter: String(r.snapshotter), snapshotKey: String(r.snapshot_key),
    labels: JSON.parse(String(r.labels)) as Record<string, string>,
    createdAt: big(r.created_at), updatedAt: big(r.updated_at),
  };
}

function toTask(r: Row): TaskRecord {
  return {
    namespace: String(r.namespace), containerId: String(r.container_id), bundle: String(r.bundle),
    logPath: String(r.log_path), shimPid: Number(r.shim_pid), shimAddress: String(r.shim_address),
    shimSeq: Number(r.shim_seq), terminal: Boolean(r.terminal), stdin: Boolean(r.stdin), createdAt: big(r.created_at),
  };
}

function toProcess(r: Row): ProcessRecord {
  return {
    namespace: String(r.namespace), containerId: String(r.container_id), execId: String(r.exec_id),
    pid: Number(r.pid), status: String(r.status) as ProcessStatus, terminal: Boolean(r.terminal),
    exitStatus: Number(r.exit_status), exitSignal: Number(r.exit_signal), exitedAt: big(r.exited_at),
    oomKilled: Boolean(r.oom_killed), reason: String(r.reason),
  };
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/** The metadata store. Synchronous, as better-sqlite3 is: each call is short. */
export class MetadataStore {
  readonly db: Database.Database;

  constructor(root: string) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    this.db = new Database(join(root, 'meta.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    if (!this.getNamespaceOrUndefined(DEFAULT_NAMESPACE)) this.createNamespace({ name: DEFAULT_NAMESPACE, labels: {} });
  }

  close(): void {
    this.db.close();
  }

  /** Runs fn in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- namespaces

  listNamespaces(): NamespaceRecord[] {
    return (this.db.prepare('SELECT * FROM namespaces ORDER BY name').all() as Row[]).map((r) => ({
      name: String(r.name), labels: JSON.parse(String(r.labels)) as Record<string, string>, createdAt: big(r.created_at),
    }));
  }

  getNamespaceOrUndefined(name: string): NamespaceRecord | undefined {
    return this.listNamespaces().find((n) => n.name === name);
  }

  getNamespace(name: string): NamespaceRecord {
    const ns = this.getNamespaceOrUndefined(name);
    if (!ns) throw new NotFoundError(`namespace ${name}: not found`);
    return ns;
  }

  createNamespace(ns: { name: string; labels: Record<string, string> }): NamespaceRecord {
    const rec = { ...ns, createdAt: nowNs() };
    try {
      this.db.prepare('INSERT INTO namespaces (name, labels, created_at) VALUES (?, ?, ?)').run(ns.name, json(ns.labels), String(rec.createdAt));
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError(`namespace ${ns.name}: already exists`);
      throw e;
    }
    return rec;
  }

  /** Makes the namespace if it is missing (a request naming a new namespace creates it, as containerd does). */
  ensureNamespace(name: string): void {
    this.db.prepare('INSERT OR IGNORE INTO namespaces (name, labels, created_at) VALUES (?, ?, ?)').run(name, '{}', String(nowNs()));
  }

  deleteNamespace(name: string): void {
    this.tx(() => {
      this.getNamespace(name);
      const n = this.db.prepare('SELECT count(*) AS n FROM containers WHERE namespace = ?').get(name) as Row;
      if (Number(n.n) > 0) throw new FailedPreconditionError(`namespace ${name} is not empty: it holds ${Number(n.n)} container(s)`);
      this.db.prepare('DELETE FROM namespaces WHERE name = ?').run(name);
    });
  }

  // --- containers

  createContainer(c: Omit<ContainerRecord, 'createdAt' | 'updatedAt'>): ContainerRecord {
    const now = nowNs();
    const rec: ContainerRecord = { ...c, createdAt: now, updatedAt: now };
    return this.tx(() => {
      this.ensureNamespace(c.namespace);
      try {
        this.db
          .prepare('INSERT INTO containers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(c.namespace, c.id, c.image, json(c.runtime), c.spec, c.rootfs, c.snapshotter, c.snapshotKey, json(c.labels), String(now), String(now));
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError(`container ${c.id}: already exists in namespace ${c.namespace}`);
        throw e;
      }
      return rec;
    });
  }

  getContainer(ns: string, id: string): ContainerRecord {
    const r = this.db.prepare('SELECT * FROM containers WHERE namespace = ? AND id = ?').get(ns, id) as Row | undefined;
    if (!r) throw new NotFoundError(`container ${id}: not found in namespace ${ns}`);
    return toContainer(r);
  }

  listContainers(ns: string): ContainerRecord[] {
    return (this.db.prepare('SELECT * FROM containers WHERE namespace = ? ORDER BY id').all(ns) as Row[]).map(toContainer);
  }

  /** Every container's snapshot key, in every namespace (what GC must keep). */
  snapshotKeys(): string[] {
    return this.db.prepare("SELECT DISTINCT snapshot_key FROM containers WHERE snapshot_key != ''").pluck().all() as string[];
  }

  /** The container (any namespace) holding snapshot `key`, if one does. */
  containerWithSnapshot(key: string): { namespace: string; id: string } | undefined {
    return this.db.prepare('SELECT namespace, id FROM containers WHERE snapshot_key = ? LIMIT 1').get(key) as { namespace: string; id: string } | undefined;
  }

  updateContainer(c: ContainerRecord): ContainerRecord {
    const rec = { ...c, updatedAt: nowNs() };
    const res = this.db
      .prepare('UPDATE containers SET image = ?, runtime = ?, spec = ?, rootfs = ?, snapshotter = ?, snapshot_key = ?, labels = ?, updated_at = ? WHERE namespace = ? AND id = ?')
      .run(c.image, json(c.runtime), c.spec, c.rootfs, c.snapshotter, c.snapshotKey, json(c.labels), String(rec.updatedAt), c.namespace, c.id);
    if (res.changes === 0) throw new NotFoundError(`container ${c.id}: not found in namespace ${c.namespace}`);
    return rec;
  }

  deleteContainer(ns: string, id: string): void {
    this.tx(() => {
      this.getContainer(ns, id);
      if (this.getTask(ns, id)) throw new FailedPreconditionError(`container ${id} has a task: delete the task first (berth-ctr tasks rm ${id})`);
      this.db.prepare('DELETE FROM containers WHERE namespace = ? AND id = ?').run(ns, id);
    });
  }

  // --- tasks and processes

  insertTask(t: TaskRecord, init: ProcessRecord): void {
    this.tx(() => {
      if (this.getTask(t.namespace, t.containerId)) throw new AlreadyExistsError(`task ${t.containerId}: already exists in namespace ${t.namespace}`);
      this.db
        .prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(t.namespace, t.containerId, t.bundle, t.logPath, t.shimPid, t.shimAddress, t.shimSeq, t.terminal ? 1 : 0, t.stdin ? 1 : 0, String(t.createdAt));
      this.putProcess(init);
    });
  }

  getTask(ns: string, id: string): TaskRecord | undefined {
    const r = this.db.prepare('SELECT * FROM tasks WHERE namespace = ? AND container_id = ?').get(ns, id) as Row | undefined;
    return r ? toTask(r) : undefined;
  }

  /** Every task, of every namespace when ns is undefined. */
  listTasks(ns?: string): TaskRecord[] {
    const rows = ns === undefined
      ? this.db.prepare('SELECT * FROM tasks ORDER BY namespace, container_id').all()
      : this.db.prepare('SELECT * FROM tasks WHERE namespace = ? ORDER BY container_id').all(ns);
    return (rows as Row[]).map(toTask);
  }

  setShim(ns: string, id: string, shimPid: number, shimAddress: string): void {
    this.db.prepare('UPDATE tasks SET shim_pid = ?, shim_address = ? WHERE namespace = ? AND container_id = ?').run(shimPid, shimAddress, ns, id);
  }

  setShimSeq(ns: string, id: string, seq: number): void {
    this.db.prepare('UPDATE tasks SET shim_seq = MAX(shim_seq, ?) WHERE namespace = ? AND container_id = ?').run(seq, ns, id);
  }

  deleteTask(ns: string, id: string): void {
    this.tx(() => {
      this.db.prepare('DELETE FROM processes WHERE namespace = ? AND container_id = ?').run(ns, id);
      this.db.prepare('DELETE FROM tasks WHERE namespace = ? AND container_id = ?').run(ns, id);
    });
  }

  getProcess(ns: string, id: string, execId: string): ProcessRecord | undefined {
    const r = this.db.prepare('SELECT * FROM processes WHERE namespace = ? AND container_id = ? AND exec_id = ?').get(ns, id, execId) as Row | undefined;
    return r ? toProcess(r) : undefined;
  }

  listProcesses(ns: string, id: string): ProcessRecord[] {
    return (this.db.prepare('SELECT * FROM processes WHERE namespace = ? AND container_id = ? ORDER BY exec_id').all(ns, id) as Row[]).map(toProcess);
  }

  putProcess(p: ProcessRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO processes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.namespace, p.containerId, p.execId, p.pid, p.status, p.terminal ? 1 : 0, p.exitStatus, p.exitSignal, String(p.exitedAt), p.oomKilled ? 1 : 0, p.reason);
  }

  deleteProcess(ns: string, id: string, execId: string): void {
    this.db.prepare('DELETE FROM processes WHERE namespace = ? AND container_id = ? AND exec_id = ?').run(ns, id, execId);
  }

  // --- events

  /** Appends an encoded event (without its seq) and returns the seq it got. */
  appendEvent(data: Uint8Array): number {
    const res = this.db.prepare('INSERT INTO events (data) VALUES (?)').run(Buffer.from(data));
    const seq = Number(res.lastInsertRowid);
    if (seq % 1000 === 0) this.db.prepare('DELETE FROM events WHERE seq <= ?').run(seq - KEPT_EVENTS);
    return seq;
  }

  eventsAfter(seq: number): Array<{ seq: number; data: Buffer }> {
    return (this.db.prepare('SELECT seq, data FROM events WHERE seq > ? ORDER BY seq').all(seq) as Row[]).map((r) => ({ seq: Number(r.seq), data: r.data as Buffer }));
  }

  lastEventSeq(): number {
    const r = this.db.prepare('SELECT max(seq) AS s FROM events').get() as Row;
    return Number(r.s ?? 0);
  }
}
