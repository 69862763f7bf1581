// berth.content.v1.Content over a content store; register with
// `server.addService(ContentService, new ContentGrpc(store).handlers)`.
import type * as grpc from '@grpc/grpc-js';
import { WriteAction, type ContentServer, type IInfo, type IStatus, type WriteContentRequest, type IWriteContentResponse } from '@berth/api/berth/content/v1';
import { FailedPreconditionError, InvalidArgumentError, toServiceError } from '@berth/api/errdefs';
import { toLong, toNum } from '../long.js';
import { unary } from '../services/handler.js';
import type { ContentStore, Info, Status, Writer } from './content.js';

const ns = (d: Date): ReturnType<typeof toLong> => toLong(BigInt(d.getTime()) * 1_000_000n);
const CHUNK = 1 << 20;

const infoPb = (i: Info): IInfo => ({ digest: i.digest, size: toLong(i.size), createdAtNs: ns(i.createdAt), updatedAtNs: ns(i.updatedAt), labels: i.labels });
const statusPb = (s: Status): IStatus => ({ ref: s.ref, offset: toLong(s.offset), total: toLong(s.total), expected: s.expected, startedAtNs: ns(s.startedAt), updatedAtNs: ns(s.updatedAt) });

export class ContentGrpc {
  readonly handlers: ContentServer;

  constructor(private readonly store: ContentStore) {
    this.handlers = {
      info: unary(async (req) => ({ info: infoPb(await store.info(req.digest)) })),
      list: unary(async () => ({ info: (await store.list()).map(infoPb) })),
      delete: unary(async (req) => (await store.delete(req.digest), {})),
      read: (call) => void this.read(call),
      status: unary(async (req) => ({ status: statusPb(await store.status(req.ref)) })),
      listStatuses: unary(async () => ({ statuses: (await store.listStatuses()).map(statusPb) })),
      write: (call) => this.write(call),
      abort: unary(async (req) => (await store.abort(req.ref), {})),
      usage: unary(async () => {
        const u = await store.usage();
        return { size: toLong(u.size), blobs: toLong(u.count) };
      }),
    };
  }

  private async read(call: Parameters<ContentServer['read']>[0]): Promise<void> {
    try {
      let offset = toNum(call.request.offset);
      for await (const chunk of this.store.read(call.request.digest, offset, toNum(call.request.size))) {
        for (let i = 0; i < chunk.length; i += CHUNK) {
          const data = chunk.subarray(i, i + CHUNK);
          if (!call.write({ offset: toLong(offset), data })) await new Promise((r) => call.once('drain', r));
          offset += data.length;
        }
        if (call.cancelled) return;
      }
      call.end();
    } catch (e) {
      call.emit('error', Object.assign(new Error((e as Error).message), toServiceError(e)) as grpc.ServiceError);
    }
  }

  private write(call: Parameters<ContentServer['write']>[0]): void {
    let writer: Writer | undefined;
    let chain = Promise.resolve();
    const fail = (e: unknown): void => {
      void writer?.close();
      writer = undefined;
      call.emit('error', Object.assign(new Error((e as Error).message), toServiceError(e)) as grpc.ServiceError);
    };
    const handle = async (req: WriteContentRequest): Promise<void> => {
      if (!writer) {
        if (!req.ref) throw new InvalidArgumentError('content write: the first message must carry a ref');
        writer = await this.store.writer(req.ref, { expected: req.expected || undefined, total: toNum(req.total) || undefined });
      }
      const w = writer;
      if (req.data?.length) {
        if (toNum(req.offset) !== w.status().offset) throw new FailedPreconditionError(`content write ${w.ref}: offset ${toNum(req.offset)} is not the ingest's ${w.status().offset}`);
        await w.write(Buffer.from(req.data));
      }
      const st = w.status();
      const res: IWriteContentResponse = { action: req.action, startedAtNs: ns(st.startedAt), updatedAtNs: ns(st.updatedAt), offset: toLong(st.offset), total: toLong(st.total), digest: w.digest() };
      if (req.action === WriteAction.WRITE_ACTION_COMMIT) {
        const info = await w.commit(toNum(req.total), req.expected, { ...(req.labels ?? {}) });
        writer = undefined;
        res.digest = info.digest;
      }
      call.write(res);
    };
    call.on('data', (req: WriteContentRequest) => {
      chain = chain.then(() => handle(req)).catch((e: unknown) => {
        fail(e);
        chain = new Promise(() => undefined); // nothing more for this stream
      });
    });
    call.on('end', () => void chain.then(() => (void writer?.close(), call.end())));
    call.on('error', () => void writer?.close());
  }
}
