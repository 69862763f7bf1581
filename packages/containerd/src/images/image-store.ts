/**
 * Image records: a name (`docker.io/library/busybox:latest`) pointing at a target descriptor
 * (an index or a manifest), with labels, per namespace, in SQLite (the storage database).
 */
import type Database from 'better-sqlite3';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@berth/api/errdefs';
import type { Descriptor } from './media-types.js';

export interface Image {
  name: string;
  target: Descriptor;
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  namespace TEXT NOT NULL, name TEXT NOT NULL, target TEXT NOT NULL, labels TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (namespace, name));
`;

interface Row { name: string; target: string; labels: string; created_at: string; updated_at: string }

const toImage = (r: Row): Image => ({
  name: r.name, target: JSON.parse(r.target) as Descriptor, labels: JSON.parse(r.labels) as Record<string, string>,
  createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
});

export class ImageStore {
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  get(ns: string, name: string): Image {
    const r = this.db.prepare('SELECT * FROM images WHERE namespace = ? AND name = ?').get(ns, name) as Row | undefined;
    if (!r) throw new NotFoundError(`no such image: ${name}`);
    return toImage(r);
  }

  list(ns?: string): (Image & { namespace: string })[] {
    const rows = (ns === undefined
      ? this.db.prepare('SELECT * FROM images ORDER BY namespace, name').all()
      : this.db.prepare('SELECT * FROM images WHERE namespace = ? ORDER BY name').all(ns)) as (Row & { namespace: string })[];
    return rows.map((r) => ({ ...toImage(r), namespace: r.namespace }));
  }

  create(ns: string, img: Pick<Image, 'name' | 'target'> & { labels?: Record<string, string> }): Image {
    if (!img.name) throw new InvalidArgumentError('image name is required');
    if (!img.target?.digest) throw new InvalidArgumentError(`image ${img.name}: a target descriptor is required`);
    const now = new Date().toISOString();
    try {
      this.db.prepare('INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)').run(ns, img.name, JSON.stringify(img.target), JSON.stringify(img.labels ?? {}), now, now);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError(`image ${img.name}: already exists`);
      throw e;
    }
    return this.get(ns, img.name);
  }

  /** Replaces target and/or labels. */
  update(ns: string, name: string, change: { target?: Descriptor; labels?: Record<string, string> }): Image {
    const cur = this.get(ns, name);
    this.db.prepare('UPDATE images SET target = ?, labels = ?, updated_at = ? WHERE namespace = ? AND name = ?')
      .run(JSON.stringify(change.target ?? cur.target), JSON.stringify(change.labels ?? cur.labels), new Date().toISOString(), ns, name);
    return this.get(ns, name);
  }

  delete(ns: string, name: string): void {
    if (this.db.prepare('DELETE FROM images WHERE namespace = ? AND name = ?').run(ns, name).changes === 0) throw new NotFoundError(`no such image: ${name}`);
  }
}
