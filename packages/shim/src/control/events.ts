import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir } from '../monitor/exit-record.js';
import { nowNs } from '../monitor/clock.js';

/** An event as the journal keeps it: the proto's Event with int64s as decimal strings. */
export interface JournalEvent {
  seq: number;
  /** Nanoseconds since the epoch. */
  ns: string;
  /** Exactly one of the proto's payload fields (created, started, exited...), in proto3 JSON names. */
  body: Record<string, unknown>;
}

export type Listener = (e: JournalEvent) => void;

/**
 * The shim's events, numbered and durable: each is appended to `events.log` and fsynced before
 * anyone sees it; the events not yet acknowledged stay (on disk and in memory) for a client that
 * reconnects. AckEvents rewrites the file as the unacknowledged tail, headed by the acknowledged
 * seq, so numbering continues across a reopen.
 */
export class EventJournal {
  private kept: JournalEvent[] = [];
  private acked = 0;
  private next = 1;
  private fd: number;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly path: string) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // first start
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let parsed: Partial<JournalEvent> & { acked?: number };
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // a torn last line from a crash mid-append: it was never told to anyone
      }
      if (typeof parsed.acked === 'number') this.acked = Math.max(this.acked, parsed.acked);
      else if (typeof parsed.seq === 'number' && parsed.seq > this.acked) this.kept.push(parsed as JournalEvent);
    }
    this.kept = this.kept.filter((e) => e.seq > this.acked);
    this.next = Math.max(this.acked, ...this.kept.map((e) => e.seq)) + 1;
    this.fd = openSync(path, 'a', 0o600);
    // End a torn last line, so the next event starts a line of its own.
    if (text && !text.endsWith('\n')) writeSync(this.fd, '\n');
  }

  /** The last seq given out (0 before the first). */
  get lastSeq(): number {
    return this.next - 1;
  }

  /** Numbers, persists (append + fsync) and then streams one event. */
  publish(body: Record<string, unknown>): JournalEvent {
    const e: JournalEvent = { seq: this.next++, ns: nowNs().toString(), body };
    let failure: unknown;
    try {
      writeSync(this.fd, JSON.stringify(e) + '\n');
      fsyncSync(this.fd);
    } catch (err) {
      failure = err; // told anyway (kept in memory): a lost event is worse than one not on disk
    }
    this.kept.push(e);
    for (const l of this.listeners) l(e);
    if (failure) throw failure;
    return e;
  }

  /**
   * The kept events after `afterSeq`, and from then on every new one, each once and in order
   * (the snapshot and the subscription are taken in the same tick).
   */
  subscribe(afterSeq: number, listener: Listener): { replay: JournalEvent[]; unsubscribe: () => void } {
    const replay = this.kept.filter((e) => e.seq > afterSeq);
    this.listeners.add(listener);
    return { replay, unsubscribe: () => this.listeners.delete(listener) };
  }

  /** The client has handled everything up to `seq`: forget it, on disk too. */
  ack(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = Math.min(seq, this.lastSeq);
    this.kept = this.kept.filter((e) => e.seq > this.acked);
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ acked: this.acked }) + '\n' + this.kept.map((e) => JSON.stringify(e) + '\n').join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    fsyncDir(dirname(this.path));
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
  }

  /** Unacknowledged events, oldest first. */
  pending(): readonly JournalEvent[] {
    return this.kept;
  }

  close(): void {
    this.listeners.clear();
    try {
      closeSync(this.fd);
    } catch {
      // closed
    }
  }
}
