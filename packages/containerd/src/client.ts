/**
 * A client of berth-containerd: one channel, the five services, promise-returning unary calls
 * with errors converted to errdefs classes (the client boundary). Used by berth-ctr and tests.
 */
import * as grpc from '@grpc/grpc-js';
import { ContainersClient } from '@berth/api/berth/containers/v1';
import { EventsClient } from '@berth/api/berth/events/v1';
import { NamespacesClient } from '@berth/api/berth/namespaces/v1';
import { TasksClient } from '@berth/api/berth/tasks/v1';
import { VersionClient } from '@berth/api/berth/version/v1';
import { unixAddress } from '@berth/api';
import { fromServiceError } from './errdefs.js';

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

export class ContainerdClient {
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly events: EventsClient;
  readonly namespaces: NamespacesClient;
  readonly version: VersionClient;

  constructor(readonly socket: string) {
    const addr = unixAddress(socket);
    const creds = grpc.credentials.createInsecure();
    const opts = { 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.containers = new ContainersClient(addr, creds, opts);
    // Every service shares the first client's channel.
    const channelOverride = { channelOverride: this.containers.getChannel() };
    this.tasks = new TasksClient(addr, creds, channelOverride);
    this.events = new EventsClient(addr, creds, channelOverride);
    this.namespaces = new NamespacesClient(addr, creds, channelOverride);
    this.version = new VersionClient(addr, creds, channelOverride);
  }

  /** `await c.call(c.tasks, (t) => t.kill, {...})`; deadline in ms (0: none). */
  call<C extends grpc.Client, Req, Res>(client: C, pick: (c: C) => Unary<Req, Res>, req: Req, timeoutMs = 60_000, waitForReady = false): Promise<Res> {
    const fn = pick(client).bind(client) as Unary<Req, Res>;
    return new Promise((resolve, reject) => {
      const opts: Partial<grpc.CallOptions> = timeoutMs ? { deadline: Date.now() + timeoutMs } : {};
      fn(req, new grpc.Metadata({ waitForReady }), opts, (err, res) => {
        if (err) reject(fromServiceError(err, `berth-containerd at ${this.socket} (is it running?)`));
        else resolve(res as Res);
      });
    });
  }

  close(): void {
    this.containers.close();
  }
}
