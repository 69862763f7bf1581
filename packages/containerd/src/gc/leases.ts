/**
 * Leases (containerd's): a named hold on content, snapshots and ingests that nothing else
 * references yet (an image being pulled, a layer being unpacked), so GC leaves them alone. A
 * lease with the label `containerd.io/gc.expire` (RFC 3339) lapses at that time.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@berth/api/errdefs';

export type ResourceKind = 'content' | 'snapshots' | 'ingests';
export interface Resource {
  kind: ResourceKind;
  id: string;
}
export interface Lease {
  id: string;
  labels: Record<string, string>;
  createdAt: Date;
}

export const EXPIRE_LABEL = 'containerd.io/gc.expire';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, labels TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lease_resources (
  lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE, kind TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (lease_id, kind, id));
`;

const KINDS = new Set<string>(['content', 'snapshots', 'ingests']);

export class LeaseStore {
  constructor(private readonly db: Database.Database) {
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
  }

  create(id = '', labels: Record<string, string> = {}): Lease {
    const lid = id || `lease-${randomBytes(8).toString('hex')}`;
    const now = new Date();
    try {
      this.db.prepare('INSERT INTO leases VALUES (?, ?, ?)').run(lid, JSON.stringify(labels), now.toISOString());
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError(`lease ${lid}: already exists`);
      throw e;
    }
    return { id: lid, labels, createdAt: now };
  }

  delete(id: string): void {
    if (this.db.prepare('DELETE FROM leases WHERE id = ?').run(id).changes === 0) throw new NotFoundError(`lease ${id}: not found`);
  }

  list(): Lease[] {
    return (this.db.prepare('SELECT * FROM leases ORDER BY id').all() as { id: string; labels: string; created_at: string }[])
      .map((r) => ({ id: r.id, labels: JSON.parse(r.labels) as Record<string, string>, createdAt: new Date(r.created_at) }));
  }

  addResource(id: string, r: Resource): void {
    if (!KINDS.has(r.kind)) throw new InvalidArgumentError(`lease resource kind ${JSON.stringify(r.kind)}: want content, snapshots or ingests`);
    if (!this.db.prepare('SELECT 1 FROM leases WHERE id = ?').get(id)) throw new NotFoundError(`lease ${id}: not found`);
    this.db.prepare('INSERT OR IGNORE INTO lease_resources VALUES (?, ?, ?)').run(id, r.kind, r.id);
  }

  deleteResource(id: string, r: Resource): void {
    this.db.prepare('DELETE FROM lease_resources WHERE lease_id = ? AND kind = ? AND id = ?').run(id, r.kind, r.id);
  }

  listResources(id: string): Resource[] {
    if (!this.db.prepare('SELECT 1 FROM leases WHERE id = ?').get(id)) throw new NotFoundError(`lease ${id}: not found`);
    return this.db.prepare('SELECT kind, id FROM lease_resources WHERE lease_id = ? ORDER BY kind, id').all(id) as Resource[];
  }

  /** Deletes leases whose expiry has passed; returns their ids. */
  expire(now = new Date()): string[] {
    const gone = this.list().filter((l) => {
      const at = l.labels[EXPIRE_LABEL];
      return at !== undefined && !Number.isNaN(Date.parse(at)) && Date.parse(at) <= now.getTime();
    });
    for (const l of gone) this.delete(l.id);
    return gone.map((l) => l.id);
  }

  /** Everything held by a live lease. */
  held(): Resource[] {
    return this.db.prepare('SELECT DISTINCT kind, id FROM lease_resources').all() as Resource[];
  }
}
