/**
 * The event exchange: every event is recorded in the metadata database (seq, kept for
 * subscribers that resume) and then delivered to the live subscribers whose filters match.
 * record() may run inside a caller's transaction (an exit and its event commit together);
 * deliver() runs after the commit. Both are synchronous, so no subscriber sees a gap or a
 * double between replay and live delivery.
 */
import { Envelope, type IEnvelope, type IFilter } from '@berth/api/berth/events/v1';
import type { MetadataStore } from '../metadata/db.js';
import { nowNs } from '../metadata/db.js';
import { toLong } from '../long.js';

export type EventInput = Omit<IEnvelope, 'seq'>;

interface Subscriber {
  filters: IFilter[];
  lastSeq: number;
  send: (e: Envelope) => void;
}

export function matches(filters: readonly IFilter[], e: IEnvelope): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => {
    if (f.namespace && f.namespace !== e.namespace) return false;
    if (f.containerId && f.containerId !== e.containerId) return false;
    if (f.topic) {
      const t = e.topic ?? '';
      if (f.topic.endsWith('/') ? !t.startsWith(f.topic) : f.topic !== t) return false;
    }
    return true;
  });
}

export class Exchange {
  private readonly subs = new Set<Subscriber>();

  constructor(private readonly store: MetadataStore) {}

  /** Records the event durably (in the caller's transaction, if one is open) and returns it with its seq. */
  record(e: EventInput): Envelope {
    const env = Envelope.create({ ...e, timestampNs: e.timestampNs ?? toLong(nowNs()) });
    const seq = this.store.appendEvent(Envelope.encode(env).finish());
    env.seq = toLong(seq);
    return env;
  }

  /** Delivers a recorded event to the live subscribers. */
  deliver(env: Envelope): void {
    const seq = Number(env.seq);
    for (const s of this.subs) {
      if (seq <= s.lastSeq || !matches(s.filters, env)) continue;
      s.lastSeq = seq;
      try {
        s.send(env);
      } catch {
        this.subs.delete(s);
      }
    }
  }

  publish(e: EventInput): Envelope {
    const env = this.record(e);
    this.deliver(env);
    return env;
  }

  /**
   * Subscribes; with replay, first sends the kept events after afterSeq. Returns the
   * function that ends the subscription.
   */
  subscribe(filters: IFilter[], send: (e: Envelope) => void, replay = false, afterSeq = 0): () => void {
    const sub: Subscriber = { filters, lastSeq: this.store.lastEventSeq(), send };
    if (replay) {
      for (const { seq, data } of this.store.eventsAfter(afterSeq)) {
        const env = Envelope.decode(data);
        env.seq = toLong(seq);
        if (matches(filters, env)) send(env);
      }
    }
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  get subscribers(): number {
    return this.subs.size;
  }
}
