/**
 * The overlay snapshotter, laid out as containerd's:
 *
 *   <root>/metadata.db             snapshot records (better-sqlite3, WAL, synchronous=FULL)
 *   <root>/snapshots/<id>/fs       the snapshot's own files (a layer, or a container's upper)
 *   <root>/snapshots/<id>/work     overlayfs' workdir (active snapshots)
 *
 * Each committed snapshot is one layer, unpacked once and shared by every image and container
 * above it; an active snapshot's mounts are an overlay of its parents' fs (top first) with its
 * own fs as the writable upper, which goes away with it (remove).
 *
 * Metadata is in SQLite, not JSON files: prepare/commit/remove change several records that must
 * move together (a commit re-keys a snapshot that children then point at), a crash must leave
 * all or nothing, and concurrent readers (walk during a commit) must see a consistent set.
 * better-sqlite3 is already the daemon's database engine; this is its own file, so the
 * snapshotter stays usable alone, as containerd's snapshotters keep their own metadata.db.
 * Directories are made before the record and removed after it, and a directory with no record
 * (a crash in between) is removed when the snapshotter opens.
 */
import Database from 'better-sqlite3';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@berth/api/errdefs';
import type { Kind, Mount, SnapshotInfo, Snapshotter, Usage } from './snapshotter.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  parent TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
  labels TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  inodes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent);
`;

interface Row {
  id: number;
  key: string;
  parent: string;
  kind: Kind;
  labels: string;
  created_at: string;
  updated_at: string;
  size: number;
  inodes: number;
}

/** Disk usage of a tree: allocated bytes and inodes, each hard-linked inode counted once. */
export function diskUsage(dir: string): Usage {
  const seen = new Set<bigint>();
  let size = 0;
  let inodes = 0;
  const walk = (p: string): void => {
    const st = lstatSync(p, { bigint: true });
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      inodes++;
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return { size, inodes };
}

export class OverlaySnapshotter implements Snapshotter {
  private readonly db: Database.Database;

  constructor(readonly root: string) {
    mkdirSync(join(root, 'snapshots'), { recursive: true, mode: 0o700 });
    this.db = new Database(join(root, 'metadata.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    this.cleanup();
  }

  /** Removes snapshot directories that have no record (left by a crash). */
  private cleanup(): void {
    const ids = new Set(this.db.prepare('SELECT id FROM snapshots').pluck().all().map(String));
    for (const d of readdirSync(join(this.root, 'snapshots'))) {
      if (!ids.has(d)) rmSync(join(this.root, 'snapshots', d), { recursive: true, force: true });
    }
  }

  private row(key: string): Row {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE key = ?').get(key) as Row | undefined;
    if (!r) throw new NotFoundError(`snapshot ${key}: not found`);
    return r;
  }

  private info(r: Row): SnapshotInfo {
    return { name: r.key, parent: r.parent, kind: r.kind, labels: JSON.parse(r.labels) as Record<string, string>, createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) };
  }

  /** The directory holding a snapshot's own files. */
  fsDir(id: number): string {
    return join(this.root, 'snapshots', String(id), 'fs');
  }

  private workDir(id: number): string {
    return join(this.root, 'snapshots', String(id), 'work');
  }

  /** The fs directories of `key`'s parents, nearest first. */
  parentDirs(key: string): string[] {
    const out: string[] = [];
    for (let p = this.row(key).parent; p; ) {
      const r = this.row(p);
      out.push(this.fsDir(r.id));
      p = r.parent;
    }
    return out;
  }

  /** The snapshot's own fs directory (its upper, for an active one). */
  upperDir(key: string): string {
    return this.fsDir(this.row(key).id);
  }

  stat(key: string): SnapshotInfo {
    return this.info(this.row(key));
  }

  update(key: string, labels: Record<string, string>): SnapshotInfo {
    const r = this.row(key);
    this.db.prepare('UPDATE snapshots SET labels = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(labels), new Date().toISOString(), r.id);
    return this.stat(key);
  }

  usage(key: string): Usage {
    const r = this.row(key);
    if (r.kind === 'committed') return { size: r.size, inodes: r.inodes };
    return diskUsage(this.fsDir(r.id));
  }

  mounts(key: string): Mount[] {
    const r = this.row(key);
    const parents = this.parentDirs(key);
    if (r.kind === 'active') {
      if (!parents.length) return [{ type: 'bind', source: this.fsDir(r.id), options: ['rw', 'rbind'] }];
      return [{
        type: 'overlay', source: 'overlay',
        options: [`workdir=${this.workDir(r.id)}`, `upperdir=${this.fsDir(r.id)}`, `lowerdir=${parents.join(':')}`],
      }];
    }
    if (r.kind === 'view') {
      if (parents.length <= 1) return [{ type: 'bind', source: parents[0] ?? this.fsDir(r.id), options: ['ro', 'rbind'] }];
      return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${parents.join(':')}`] }];
    }
    throw new FailedPreconditionError(`snapshot ${key} is committed: mount a view or an active snapshot of it`);
  }

  private create(kind: 'active' | 'view', key: string, parent: string, labels: Record<string, string>): Mount[] {
    if (!key) throw new InvalidArgumentError('snapshot key is required');
    const now = new Date().toISOString();
    const id = this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM snapshots WHERE key = ?').get(key)) throw new AlreadyExistsError(`snapshot ${key}: already exists`);
      if (parent) {
        const p = this.db.prepare('SELECT kind FROM snapshots WHERE key = ?').get(parent) as { kind: Kind } | undefined;
        if (!p) throw new NotFoundError(`parent snapshot ${parent}: not found`);
        if (p.kind !== 'committed') throw new FailedPreconditionError(`parent snapshot ${parent} is ${p.kind}, not committed`);
      }
      return Number(this.db.prepare('INSERT INTO snapshots (key, parent, kind, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(key, parent, kind, JSON.stringify(labels), now, now).lastInsertRowid);
    })();
    try {
      mkdirSync(this.fsDir(id), { recursive: true, mode: 0o755 });
      if (kind === 'active') mkdirSync(this.workDir(id), { mode: 0o700 });
    } catch (e) {
      this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
      rmSync(join(this.root, 'snapshots', String(id)), { recursive: true, force: true });
      throw e;
    }
    return this.mounts(key);
  }

  prepare(key: string, parent: string, labels: Record<string, string> = {}): Mount[] {
    return this.create('active', key, parent, labels);
  }

  view(key: string, parent: string, labels: Record<string, string> = {}): Mount[] {
    return this.create('view', key, parent, labels);
  }

  commit(name: string, key: string, labels?: Record<string, string>): void {
    if (!name) throw new InvalidArgumentError('snapshot name is required');
    const r = this.row(key);
    if (r.kind !== 'active') throw new FailedPreconditionError(`snapshot ${key} is ${r.kind}: only an active snapshot can be committed`);
    // The work directory is overlayfs' scratch space; a committed layer needs none.
    rmSync(this.workDir(r.id), { recursive: true, force: true });
    const u = diskUsage(this.fsDir(r.id));
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM snapshots WHERE key = ?').get(name)) throw new AlreadyExistsError(`snapshot ${name}: already exists`);
      this.db.prepare("UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, updated_at = ?, size = ?, inodes = ? WHERE id = ?")
        .run(name, JSON.stringify(labels ?? JSON.parse(r.labels)), new Date().toISOString(), u.size, u.inodes, r.id);
    })();
  }

  remove(key: string): void {
    const r = this.row(key);
    this.db.transaction(() => {
      const child = this.db.prepare('SELECT key FROM snapshots WHERE parent = ? LIMIT 1').pluck().get(key) as string | undefined;
      if (child) throw new FailedPreconditionError(`snapshot ${key} has children (e.g. ${child}): remove them first`);
      this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(r.id);
    })();
    rmSync(join(this.root, 'snapshots', String(r.id)), { recursive: true, force: true });
  }

  walk(): SnapshotInfo[] {
    return (this.db.prepare('SELECT * FROM snapshots ORDER BY id').all() as Row[]).map((r) => this.info(r));
  }

  close(): void {
    this.db.close();
  }
}
