/**
 * berthd's client of berth-containerd (namespace "berth"): one channel, promise-returning unary
 * calls, errors converted to errdefs classes once here (the client boundary).
 */
import * as grpc from '@grpc/grpc-js';
import { ContainersClient } from '@berth/api/berth/containers/v1';
import { ContentClient } from '@berth/api/berth/content/v1';
import { DiffClient } from '@berth/api/berth/diff/v1';
import { EventsClient } from '@berth/api/berth/events/v1';
import { ImagesClient } from '@berth/api/berth/images/v1';
import { LeasesClient } from '@berth/api/berth/leases/v1';
import { SnapshotsClient } from '@berth/api/berth/snapshots/v1';
import { TasksClient } from '@berth/api/berth/tasks/v1';
import { VersionClient } from '@berth/api/berth/version/v1';
import { unixAddress } from '@berth/api';
import { fromServiceError } from '@berth/api/errdefs';
import { writeContent } from '@berth/api/content-write';

export const NAMESPACE = 'berth';

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

export class ContainerdClient {
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly events: EventsClient;
  readonly version: VersionClient;
  readonly content: ContentClient;
  readonly snapshots: SnapshotsClient;
  readonly diff: DiffClient;
  readonly images: ImagesClient;
  readonly leases: LeasesClient;

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
    this.content = new ContentClient(addr, creds, channelOverride);
    this.snapshots = new SnapshotsClient(addr, creds, channelOverride);
    this.diff = new DiffClient(addr, creds, channelOverride);
    this.images = new ImagesClient(addr, creds, channelOverride);
    this.leases = new LeasesClient(addr, creds, channelOverride);
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

  /** Writes one blob through Content.Write, verified by berth-containerd at commit; one already there is success. */
  async writeContent(ref: string, source: AsyncIterable<Buffer> | Iterable<Buffer>, expected: { digest: string; size: number }): Promise<void> {
    await writeContent(this.content, this.socket, ref, source, expected, true);
  }

  close(): void {
    this.containers.close();
  }
}
