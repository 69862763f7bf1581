// The gRPC surface over a fake shim: errors keep their class across the wire (errdefs), the
// namespace defaults, event filters and replay, and attach proxied to the shim.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '@berth/api/berth/events/v1';
import { ContainerdClient } from '../client.js';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@berth/api/errdefs';
import { Logger } from '../log.js';
import { startDaemon } from '../server.js';
import { FakeLauncher } from '../testing/fake-shim.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = mkdtempSync('/tmp/berth-ctd-s-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  const launcher = new FakeLauncher();
  cleanups.push(() => launcher.stopAll());
  const d = await startDaemon({ root: join(dir, 'root'), state: join(dir, 'state'), address: join(dir, 'state', 'c.sock'), launcher, log: new Logger('error') });
  cleanups.push(() => d.stop());
  const c = new ContainerdClient(d.address);
  cleanups.push(() => c.close());
  return { c, rootfs, launcher };
}

describe('berth-containerd services', () => {
  it('maps errors to their classes and gRPC codes', async () => {
    const { c, rootfs } = await setup();
    await expect(c.call(c.containers, (x) => x.get, { id: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.call(c.containers, (x) => x.create, { container: { id: '../x' } })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.call(c.containers, (x) => x.create, { namespace: 'Bad NS', container: { id: 'x' } })).rejects.toBeInstanceOf(InvalidArgumentError);
    await c.call(c.containers, (x) => x.create, { container: { id: 'a', specJson: Buffer.from('{}'), rootfs } });
    await expect(c.call(c.containers, (x) => x.create, { container: { id: 'a' } })).rejects.toBeInstanceOf(AlreadyExistsError);
    await c.call(c.tasks, (x) => x.create, { containerId: 'a' });
    await expect(c.call(c.containers, (x) => x.delete, { id: 'a' })).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(c.call(c.tasks, (x) => x.start, { containerId: 'a', execId: 'e9' })).rejects.toThrow(/process e9 of task a: not found/);
    // A container in another namespace is invisible from default; its namespace appears.
    await c.call(c.containers, (x) => x.create, { namespace: 'other', container: { id: 'a', specJson: Buffer.from('{}'), rootfs } });
    expect((await c.call(c.namespaces, (x) => x.list, {})).namespaces.map((n) => n.name)).toEqual(['default', 'other']);
    expect((await c.call(c.tasks, (x) => x.list, { namespace: 'other' })).tasks).toEqual([]);
    await expect(c.call(c.namespaces, (x) => x.delete, { name: 'other' })).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it('streams events by filter, replays kept ones after a seq, and proxies attach', async () => {
    const { c, rootfs } = await setup();
    const live: Envelope[] = [];
    const stream = c.events.subscribe({ filters: [{ topic: '/tasks/', containerId: 'b' }] });
    stream.on('data', (e: Envelope) => live.push(e));
    stream.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    for (const id of ['a', 'b']) {
      await c.call(c.containers, (x) => x.create, { container: { id, specJson: Buffer.from('{}'), rootfs } });
      await c.call(c.tasks, (x) => x.create, { containerId: id });
      await c.call(c.tasks, (x) => x.start, { containerId: id });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(live.map((e) => `${e.containerId}${e.topic}`)).toEqual(['b/tasks/create', 'b/tasks/start']);
    stream.cancel();
    const seqOfBCreate = Number(live[0]!.seq);
    const replayed: Envelope[] = [];
    const again = c.events.subscribe({ filters: [{ containerId: 'b' }], replay: true, afterSeq: seqOfBCreate });
    again.on('data', (e: Envelope) => replayed.push(e));
    again.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    again.cancel();
    expect(replayed.map((e) => e.topic)).toEqual(['/tasks/start']);
    await expect(c.call(c.events, (x) => x.publish, { topic: '/tasks/exit' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(Number((await c.call(c.events, (x) => x.publish, { topic: '/mine/hello', custom: Buffer.from('x') })).seq)).toBeGreaterThan(seqOfBCreate);

    // The fake shim echoes stdin to stdout.
    const att = c.tasks.attach();
    let out = '';
    att.on('data', (m: { stdout?: Uint8Array }) => (out += Buffer.from(m.stdout ?? []).toString()));
    att.on('error', () => undefined);
    att.write({ start: { containerId: 'a', stdin: true, stdout: true } });
    att.write({ stdin: Buffer.from('ping') });
    const end = Date.now() + 3000;
    while (!out.includes('ping') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    att.cancel();
    expect(out).toBe('ping');
  });
});

describe('berth-containerd image storage wiring', () => {
  it('serves the storage services; a snapshot key belongs to one container, which GC and Snapshots.Remove leave alone, and which goes with it', async () => {
    const { c } = await setup();
    const v = await c.call(c.version, (x) => x.get, {});
    expect(v.apiVersions).toEqual(expect.arrayContaining(['berth.content.v1', 'berth.snapshots.v1', 'berth.diff.v1', 'berth.images.v1', 'berth.leases.v1']));
    // A parentless active snapshot stands in for an image's container snapshot.
    await c.call(c.snapshots, (x) => x.prepare, { key: 'held', parent: '' });
    await c.call(c.snapshots, (x) => x.prepare, { key: 'loose', parent: '' });
    await c.call(c.containers, (x) => x.create, { container: { id: 'a', specJson: Buffer.from('{}'), snapshotter: 'overlayfs', snapshotKey: 'held' } });
    await expect(c.call(c.containers, (x) => x.create, { namespace: 'other', container: { id: 'b', specJson: Buffer.from('{}'), snapshotKey: 'held' } }))
      .rejects.toThrow(/held by container a in namespace default/);
    await expect(c.call(c.snapshots, (x) => x.remove, { key: 'held' })).rejects.toBeInstanceOf(FailedPreconditionError);
    // GC (a lease deleted with sync) keeps the container's snapshot, removes the loose one.
    const l = await c.call(c.leases, (x) => x.create, {});
    await c.call(c.leases, (x) => x.delete, { id: l.lease!.id, sync: true });
    expect((await c.call(c.snapshots, (x) => x.list, {})).info.map((i) => i.name)).toEqual(['held']);
    // The container's snapshot goes with it.
    await c.call(c.containers, (x) => x.delete, { id: 'a' });
    expect((await c.call(c.snapshots, (x) => x.list, {})).info).toEqual([]);
  });
});
