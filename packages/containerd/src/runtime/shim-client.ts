/**
 * A connection to one shim's Task API (berth.shim.v1) over its unix socket. Calls wait for the
 * socket to be ready (the shim may still be starting, or berth-containerd just restarted), and
 * reconnect back-off is capped at about a second (grpc-js would otherwise wait up to 120 s).
 */
import * as grpc from '@grpc/grpc-js';
import { TaskClient } from '@berth/api/berth/shim/v1';
import { unixAddress } from '@berth/api';
import { fromServiceError } from '@berth/api/errdefs';

/** The shim protocol this berth-containerd speaks (2: Attach's `attached`, spares). */
export const SHIM_PROTOCOL = 2;

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

/** Metadata that makes a call wait for the channel to be ready instead of failing fast. */
export function ready(): grpc.Metadata {
  return new grpc.Metadata({ waitForReady: true });
}

export class ShimConnection {
  readonly client: TaskClient;
  /** The shim's protocol, from its Connect answer (1 until then). */
  protocol = 1;

  constructor(readonly socket: string) {
    this.client = new TaskClient(unixAddress(socket), grpc.credentials.createInsecure(), {
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
  }

  /** Calls a unary method: `conn.call(c => c.kill, {...})`. */
  call<Req, Res>(pick: (c: TaskClient) => Unary<Req, Res>, req: Req, timeoutMs = 30_000): Promise<Res> {
    const fn = pick(this.client).bind(this.client) as Unary<Req, Res>;
    return new Promise((resolve, reject) => {
      fn(req, ready(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(fromServiceError(err, `shim ${this.socket}`));
        else resolve(res as Res);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
