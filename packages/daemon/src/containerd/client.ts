/**
 * berthd's client of berth-containerd (namespace "berth"): one channel, promise-returning unary
 * calls, errors converted to errdefs classes once here (the client boundary).
 */
import * as grpc from '@grpc/grpc-js';
import { ContainersClient } from '@berth/api/berth/containers/v1';
import { EventsClient } from '@berth/api/berth/events/v1';
import { TasksClient } from '@berth/api/berth/tasks/v1';
import { VersionClient } from '@berth/api/berth/version/v1';
import { unixAddress } from '@berth/api';
import { fromServiceError } from '@berth/api/errdefs';

export const NAMESPACE = 'berth';

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

export class ContainerdClient {
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly events: EventsClient;
  readonly version: VersionClient;

  constructor(readonly socket: string) {
    const addr = unixAddress(socket);
    const creds = grpc.credentials.createInsecure();
    // Reconnect quickly: berth-containerd may be restarted under us.
    const opts = { 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.containers = new ContainersClient(addr, creds, opts);
    const channelOverride = { channelOverride: this.containers.getChannel() };
    this.tasks = new TasksClient(addr, creds, channelOverride);
    this.events = new EventsClient(addr, creds, channelOverride);
    this.version = new VersionClient(addr, creds, channelOverride);
  }

  call<C extends grpc.Client, Req, Res>(client: C, pick: (c: C) => Unary<Req, Res>, req: Req, timeoutMs = 60_000, waitForReady = true): Promise<Res> {
    const fn = pick(client).bind(client) as Unary<Req, Res>;
    return new Promise((resolve, reject) => {
      const opts: Partial<grpc.CallOptions> = timeoutMs ? { deadline: Date.now() + timeoutMs } : {};
      const md = new grpc.Metadata({ waitForReady });
      fn(req, md, opts, (err, res) => {
        if (err) reject(fromServiceError(err, `berth-containerd at ${this.socket} (is it running?)`));
        else resolve(res as Res);
      });
    });
  }

  close(): void {
    this.containers.close();
  }
}
