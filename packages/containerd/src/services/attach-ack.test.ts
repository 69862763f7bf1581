// Tasks.Attach answers `attached` first, announced by the `berth-attach-ack` header, also for a
// shim of protocol 1 (the fake shim here), which has no such answer: berth-containerd then sends
// it a moment after the start reached the shim (tasks.proto, packages/shim/README.md row 12).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, expect, it } from 'vitest';
import type { AttachResponse } from '@berth/api/berth/tasks/v1';
import { ContainerdClient } from '../client.js';
import { Logger } from '../log.js';
import { startDaemon } from '../server.js';
import { FakeLauncher } from '../testing/fake-shim.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('Attach to a protocol-1 shim: the header at once, then `attached`, then the output', async () => {
  const dir = mkdtempSync('/tmp/berth-ctd-a-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  const launcher = new FakeLauncher();
  cleanups.push(() => launcher.stopAll());
  const d = await startDaemon({ root: join(dir, 'root'), state: join(dir, 'state'), address: join(dir, 'state', 'c.sock'), launcher, log: new Logger('error') });
  cleanups.push(() => d.stop());
  const c = new ContainerdClient(d.address);
  cleanups.push(() => c.close());
  await c.call(c.containers, (x) => x.create, { container: { id: 'a', specJson: Buffer.from('{}'), rootfs } });
  await c.call(c.tasks, (x) => x.create, { containerId: 'a' });

  const att = c.tasks.attach() as grpc.ClientDuplexStream<object, AttachResponse>;
  const header = new Promise<grpc.Metadata>((r) => att.once('metadata', r));
  const got: string[] = [];
  att.on('data', (m: AttachResponse) => got.push(m.output === 'stdout' ? `stdout:${Buffer.from(m.stdout ?? []).toString()}` : String(m.output)));
  att.on('error', () => undefined);
  att.write({ start: { containerId: 'a', stdin: true, stdout: true } });
  expect((await header).get('berth-attach-ack')).toEqual(['1']);
  for (const end = Date.now() + 3000; !got.length && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  expect(got).toEqual(['attached']);
  att.write({ stdin: Buffer.from('ping') }); // the fake shim echoes stdin
  for (const end = Date.now() + 3000; got.length < 2 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  att.cancel();
  expect(got).toEqual(['attached', 'stdout:ping']);
});
