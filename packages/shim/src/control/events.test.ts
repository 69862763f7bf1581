import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventJournal, type JournalEvent } from './events.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const journalPath = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-events-'));
  dirs.push(d);
  return join(d, 'events.log');
};
const kinds = (es: readonly JournalEvent[]) => es.map((e) => `${e.seq}:${Object.keys(e.body)[0]}`);

describe('EventJournal', () => {
  it('numbers events from 1, persists each before streaming it, replays after a seq then follows live', () => {
    const path = journalPath();
    const j = new EventJournal(path);
    const seen: string[] = [];
    j.subscribe(0, (e) => {
      seen.push(`${e.seq}:${Object.keys(e.body)[0]}`);
      // Persisted before anyone sees it.
      expect(readFileSync(path, 'utf8')).toContain(`"seq":${e.seq},`);
    });
    j.publish({ created: { pid: 1 } });
    j.publish({ started: { pid: 1 } });
    const late: JournalEvent[] = [];
    const { replay } = j.subscribe(1, (e) => late.push(e));
    expect(kinds(replay)).toEqual(['2:started']);
    j.publish({ exited: { pid: 1 } });
    expect(seen).toEqual(['1:created', '2:started', '3:exited']);
    expect(kinds(late)).toEqual(['3:exited']);
    j.close();
  });

  it('ack forgets events up to a seq, on disk too; a reopened journal replays the rest and numbers on', () => {
    const path = journalPath();
    const j = new EventJournal(path);
    for (const k of ['created', 'started', 'exited']) j.publish({ [k]: {} });
    j.ack(2);
    expect(kinds(j.pending())).toEqual(['3:exited']);
    j.close();
    const again = new EventJournal(path);
    expect(kinds(again.subscribe(0, () => {}).replay)).toEqual(['3:exited']);
    expect(again.publish({ deleted: {} }).seq).toBe(4);
    again.ack(4);
    again.close();
    // Everything acknowledged: the numbering still goes on.
    const third = new EventJournal(path);
    expect(third.pending()).toEqual([]);
    expect(third.lastSeq).toBe(4);
    expect(third.publish({ created: {} }).seq).toBe(5);
    third.close();
  });

  it('a torn last line (a crash mid-append) is dropped on reopen; it was never told to anyone', () => {
    const path = journalPath();
    const j = new EventJournal(path);
    j.publish({ created: {} });
    j.close();
    appendFileSync(path, '{"seq":2,"ns":"1","bo');
    const again = new EventJournal(path);
    expect(kinds(again.pending())).toEqual(['1:created']);
    expect(again.publish({ started: {} }).seq).toBe(2);
    again.close();
    const third = new EventJournal(path);
    expect(kinds(third.pending())).toEqual(['1:created', '2:started']);
    third.close();
  });
});
