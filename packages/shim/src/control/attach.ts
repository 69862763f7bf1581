import type * as grpc from '@grpc/grpc-js';
import type { AttachRequest, IAttachResponse } from '@berth/api/berth/shim/v1';
import type { Stream } from '../monitor/log-writer.js';

/** An attach client may fall this many messages behind before it is dropped. */
export const MAX_PENDING_MESSAGES = 64;

export type AttachCall = grpc.ServerDuplexStream<AttachRequest, IAttachResponse>;

interface Client {
  call: AttachCall;
  stdout: boolean;
  stderr: boolean;
}

/**
 * One process's attach clients. Output fans out to each from the moment it attached; a client
 * that does not keep up (its queue past MAX_PENDING_MESSAGES) is dropped, so it never slows the
 * log writer or the others. The exit, when it comes, is each stream's last message.
 */
export class AttachHub {
  private readonly clients = new Set<Client>();
  private ended: IAttachResponse | undefined;

  add(call: AttachCall, want: { stdout: boolean; stderr: boolean }): () => void {
    if (this.ended) {
      call.write(this.ended);
      call.end();
      return () => {};
    }
    const client: Client = { call, ...want };
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  output(stream: Stream, chunk: Buffer): void {
    for (const c of this.clients) {
      if (!c[stream]) continue;
      if (c.call.writableLength > MAX_PENDING_MESSAGES) {
        this.clients.delete(c);
        c.call.destroy(new Error('attach client too slow: dropped so that it never slows the container'));
        continue;
      }
      c.call.write(stream === 'stdout' ? { stdout: chunk } : { stderr: chunk });
    }
  }

  /** The process ended (and its output was read): tell every client and close their streams. */
  finish(exit: IAttachResponse['exit']): void {
    this.ended = { exit };
    for (const c of this.clients) {
      c.call.write(this.ended);
      c.call.end();
    }
    this.clients.clear();
  }
}
