// berth.events.v1.Events: Publish for clients' own topics, Subscribe as a server stream.
import type { EventsServer } from '@berth/api/berth/events/v1';
import { InvalidArgumentError, toServiceError } from '@berth/api/errdefs';
import type { Exchange } from '../events/exchange.js';
import { toNum } from '../long.js';
import { namespaceOf, unary } from './handler.js';

const RESERVED = ['/tasks/', '/containers/', '/namespaces/'];

export function eventsService(exchange: Exchange): EventsServer {
  return {
    publish: unary((req) => {
      const topic = req.topic ?? '';
      if (!topic.startsWith('/') || RESERVED.some((r) => topic.startsWith(r))) {
        throw new InvalidArgumentError(`topic ${JSON.stringify(topic)}: must start with '/' and not be one of berth-containerd's own (${RESERVED.join(', ')})`);
      }
      const env = exchange.publish({ namespace: namespaceOf(req.namespace), topic, containerId: req.containerId, custom: req.custom });
      return { seq: env.seq };
    }),
    subscribe: (call) => {
      try {
        const unsubscribe = exchange.subscribe([...call.request.filters], (e) => call.write(e), call.request.replay, toNum(call.request.afterSeq as never));
        call.on('cancelled', unsubscribe);
        call.on('close', unsubscribe);
        call.on('error', unsubscribe);
      } catch (e) {
        call.destroy(Object.assign(new Error(toServiceError(e).details), toServiceError(e)));
      }
    },
  };
}
