// The storage services over a real grpc-js server on a unix socket: content Write (verified,
// resumable), Read and Usage; snapshots, images and leases round trips.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ContentClient, ContentService, WriteAction, type WriteContentResponse } from '@berth/api/berth/content/v1';
import { ImagesClient, ImagesService } from '@berth/api/berth/images/v1';
import { LeasesClient, LeasesService } from '@berth/api/berth/leases/v1';
import { SnapshotsClient, SnapshotsService } from '@berth/api/berth/snapshots/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeasesGrpc } from '../gc/index.js';
import { ImageStorage, ImagesGrpc } from '../images/index.js';
import { SnapshotsGrpc } from '../snapshots/index.js';
import { ContentGrpc, digestOf } from './index.js';

let dir: string;
let server: grpc.Server;
let storage: ImageStorage;
let addr: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-svc-'));
  storage = await ImageStorage.open(join(dir, 'root'));
  server = new grpc.Server();
  server.addService(ContentService, new ContentGrpc(storage.content).handlers);
  server.addService(SnapshotsService, new SnapshotsGrpc(storage.snapshotter).handlers);
  server.addService(ImagesService, new ImagesGrpc(storage).handlers);
  server.addService(LeasesService, new LeasesGrpc(storage).handlers);
  addr = `unix://${join(dir, 's.sock')}`;
  await new Promise<void>((res, rej) => server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
});
afterAll(async () => {
  await new Promise<void>((r) => server.tryShutdown(() => r()));
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

const creds = grpc.credentials.createInsecure();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const call = <T>(fn: (cb: (e: grpc.ServiceError | null, r?: any) => void) => void): Promise<T> => new Promise((res, rej) => fn((e, r) => (e ? rej(e) : res(r as T))));

/** One Write stream: sends `msgs`, collects the answers or the error. */
function writeStream(c: ContentClient, msgs: Parameters<ReturnType<ContentClient['write']>['write']>[0][]): Promise<WriteContentResponse[]> {
  return new Promise((resolve, reject) => {
    const s = c.write();
    const out: WriteContentResponse[] = [];
    s.on('data', (r: WriteContentResponse) => out.push(r));
    s.on('error', reject);
    s.on('end', () => resolve(out));
    for (const m of msgs) s.write(m);
    s.end();
  });
}

describe('storage gRPC services', () => {
  it('content: a resumed write commits verified; a bad digest leaves nothing; read streams it back', async () => {
    const c = new ContentClient(addr, creds);
    const data = Buffer.from('x'.repeat(3000));
    const d = digestOf(data);
    const first = await writeStream(c, [{ action: WriteAction.WRITE_ACTION_WRITE, ref: 'r', total: data.length, expected: d, offset: 0, data: data.subarray(0, 1000) }]);
    expect(Number(first[0]!.offset)).toBe(1000);
    const st = await call<{ status?: { offset?: unknown } | null }>((cb) => c.status({ ref: 'r' }, cb));
    expect(Number(st.status?.offset)).toBe(1000);
    const done = await writeStream(c, [
      { action: WriteAction.WRITE_ACTION_STAT, ref: 'r' },
      { action: WriteAction.WRITE_ACTION_COMMIT, offset: 1000, data: data.subarray(1000), total: data.length, expected: d },
    ]);
    expect(done.map((r) => r.digest).at(-1)).toBe(d);
    await expect(writeStream(c, [{ action: WriteAction.WRITE_ACTION_COMMIT, ref: 'bad', offset: 0, data: Buffer.from('nope'), expected: digestOf('other') }])).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    const list = await call<{ info: { digest: string }[] }>((cb) => c.list({}, cb));
    expect(list.info.map((i) => i.digest)).toEqual([d]);
    const chunks: Buffer[] = [];
    await new Promise<void>((res, rej) => c.read({ digest: d, offset: 10 }).on('data', (r: { data: Uint8Array }) => chunks.push(Buffer.from(r.data))).on('end', res).on('error', rej));
    expect(Buffer.concat(chunks)).toEqual(data.subarray(10));
    await expect(call((cb) => c.info({ digest: digestOf('missing') }, cb))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    c.close();
  });

  it('snapshots, images and leases answer with containerd-shaped messages', async () => {
    const s = new SnapshotsClient(addr, creds);
    const m = await call<{ mounts: { type: string }[] }>((cb) => s.prepare({ key: 'k1', parent: '' }, cb));
    expect(m.mounts[0]!.type).toBe('bind');
    await call((cb) => s.commit({ name: 'layer', key: 'k1' }, cb));
    const m2 = await call<{ mounts: { type: string; options: string[] }[] }>((cb) => s.prepare({ key: 'k2', parent: 'layer' }, cb));
    expect(m2.mounts[0]!.type).toBe('overlay');
    const l = await call<{ info: { name: string; kind: number }[] }>((cb) => s.list({}, cb));
    expect(l.info.map((i) => i.name)).toEqual(['layer', 'k2']);
    await expect(call((cb) => s.remove({ key: 'layer' }, cb))).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await expect(call((cb) => s.prepare({ key: 'x', parent: '', snapshotter: 'btrfs' }, cb))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });

    const i = new ImagesClient(addr, creds);
    const target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf('m'), size: 1 };
    await call((cb) => i.create({ image: { name: 'docker.io/library/x:1', target } }, cb));
    await expect(call((cb) => i.create({ image: { name: 'docker.io/library/x:1', target } }, cb))).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
    const got = await call<{ image: { target: { digest: string } } }>((cb) => i.get({ name: 'docker.io/library/x:1' }, cb));
    expect(got.image.target.digest).toBe(target.digest);
    await call((cb) => i.delete({ name: 'docker.io/library/x:1' }, cb));

    const le = new LeasesClient(addr, creds);
    const lease = await call<{ lease: { id: string } }>((cb) => le.create({ id: 'hold' }, cb));
    await call((cb) => le.addResource({ id: lease.lease.id, resource: { type: 'snapshots', id: 'k2' } }, cb));
    const res = await call<{ resources: { id: string; type: string }[] }>((cb) => le.listResources({ id: 'hold' }, cb));
    expect(res.resources).toEqual([{ id: 'k2', type: 'snapshots' }]);
    // k2 is held by the lease; GC keeps it and its parent.
    expect((await storage.gc()).snapshots).toEqual([]);
    await call((cb) => le.delete({ id: 'hold', sync: true }, cb));
    expect(storage.snapshotter.walk()).toEqual([]);
    for (const c of [s, i, le]) c.close();
  });
});
