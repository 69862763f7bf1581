/**
 * berthd's records in SQLite (better-sqlite3, WAL, synchronous=FULL): a change is durable before
 * berthd acts on it or answers, and a crash never leaves a half-written record.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from '../container/record.js';
import type { ImageRecord } from '../images/record.js';

export interface EventRecord {
  seq: number;
  timeNs: bigint;
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (ref TEXT PRIMARY KEY, image_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ns TEXT NOT NULL, type TEXT NOT NULL,
  action TEXT NOT NULL, id TEXT NOT NULL, attributes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Events kept for `events --since`. */
const KEEP_EVENTS = 10_000;

export class Store {
  readonly db: Database.Database;

  constructor(root: string) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    this.db = new Database(join(root, 'berthd.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // Containers
  putContainer(c: ContainerRecord): void {
    this.db.prepare('INSERT INTO containers (id, name, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record')
      .run(c.Id, c.Name, JSON.stringify(c));
  }

  deleteContainer(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  containers(): ContainerRecord[] {
    return (this.db.prepare('SELECT record FROM containers').all() as { record: string }[]).map((r) => JSON.parse(r.record) as ContainerRecord);
  }

  nameTaken(name: string): string | undefined {
    return (this.db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string } | undefined)?.id;
  }

  // Images
  putImage(i: ImageRecord): void {
    this.db.prepare('INSERT INTO images (id, record) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record').run(i.Id, JSON.stringify(i));
  }

  deleteImage(id: string): void {
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  images(): ImageRecord[] {
    return (this.db.prepare('SELECT record FROM images').all() as { record: string }[]).map((r) => JSON.parse(r.record) as ImageRecord);
  }

  tags(): { ref: string; imageId: string }[] {
    return (this.db.prepare('SELECT ref, image_id AS imageId FROM tags ORDER BY ref').all() as { ref: string; imageId: string }[]);
  }

  setTag(ref: string, imageId: string): void {
    this.db.prepare('INSERT INTO tags (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id').run(ref, imageId);
  }

  deleteTag(ref: string): void {
    this.db.prepare('DELETE FROM tags WHERE ref = ?').run(ref);
  }

  // Events
  addEvent(e: Omit<EventRecord, 'seq'>): EventRecord {
    const r = this.db.prepare('INSERT INTO events (time_ns, type, action, id, attributes) VALUES (?, ?, ?, ?, ?)')
      .run(String(e.timeNs), e.type, e.action, e.id, JSON.stringify(e.attributes));
    const seq = Number(r.lastInsertRowid);
    if (seq % 1000 === 0) this.db.prepare('DELETE FROM events WHERE seq <= ?').run(seq - KEEP_EVENTS);
    return { ...e, seq };
  }

  eventsSince(sinceNs: bigint): EventRecord[] {
    return (this.db.prepare('SELECT seq, time_ns, type, action, id, attributes FROM events ORDER BY seq').all() as {
      seq: number; time_ns: string; type: string; action: string; id: string; attributes: string;
    }[])
      .map((r) => ({ seq: r.seq, timeNs: BigInt(r.time_ns), type: r.type, action: r.action, id: r.id, attributes: JSON.parse(r.attributes) as Record<string, string> }))
      .filter((e) => e.timeNs >= sinceNs);
  }
}
