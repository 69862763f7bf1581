// The task manager against a fake shim (testing/fake-shim.ts): exits recorded and published
// exactly once across restarts, exits during the gap, dead shims, deletes.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '@berth/api/berth/events/v1';
import { Logger } from '../log.js';
import { startDaemon, type Daemon } from '../server.js';
import { FakeLauncher } from '../testing/fake-shim.js';
import { SHIM_DIED, UNKNOWN_EXIT } from './task-manager.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function roots(): { root: string; state: string; rootfs: string } {
  const dir = mkdtempSync('/tmp/berth-ctd-u-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  return { root: join(dir, 'root'), state: join(dir, 'state'), rootfs };
}

async function daemon(r: ReturnType<typeof roots>, launcher: FakeLauncher): Promise<Daemon> {
  const d = await startDaemon({ root: r.root, state: r.state, address: join(r.state, 'containerd.sock'), launcher, log: new Logger('error') });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await d.stop();
  });
  const stop = d.stop.bind(d);
  d.stop = async () => {
    stopped = true;
    await stop();
  };
  return d;
}

function container(d: Daemon, id: string, rootfs: string): void {
  d.store.createContainer({
    namespace: 'default', id, image: '', runtime: { name: 'berth-runc', path: '', args: [] },
    spec: Buffer.from(JSON.stringify({ ociVersion: '1.0.2-dev', process: { args: ['sh'] }, root: { path: 'rootfs' } })),
    rootfs, snapshotter: '', snapshotKey: '', labels: {},
  });
}

async function running(d: Daemon, id: string, rootfs: string): Promise<void> {
  container(d, id, rootfs);
  await d.tasks.create({ namespace: 'default', containerId: id, terminal: false, stdin: false, stdinOnce: false, rows: 0, cols: 0 });
  await d.tasks.start('default', id, '');
}

const exitsOf = (d: Daemon): Envelope[] => {
  const out: Envelope[] = [];
  d.exchange.subscribe([{ topic: '/tasks/exit' }], (e) => out.push(e), true, 0)();
  return out;
};

const until = async (f: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('TaskManager with a fake shim', () => {
  it('runs a task, records its exit once, and Wait returns it', async () => {
    const r = roots();
    const l = new FakeLauncher();
    cleanups.push(() => l.stopAll());
    const d = await daemon(r, l);
    await running(d, 'a', r.rootfs);
    expect(d.tasks.get('default', 'a', '').process.status).toBe('running');
    const w = d.tasks.wait('default', 'a', '');
    l.get('a').exitWith(3);
    const exit = await w;
    expect(exit.exitStatus).toBe(3);
    expect(d.tasks.get('default', 'a', '').process).toMatchObject({ status: 'stopped', exitStatus: 3 });
    expect(exitsOf(d)).toHaveLength(1);
    // The bundle holds the container's spec with its root pointing at the rootfs.
    expect(existsSync(join(r.state, 'default', 'a', 'config.json'))).toBe(true);
    const before = d.tasks.get('default', 'a', '').task.bundle;
    await d.tasks.delete('default', 'a', false);
    expect(existsSync(before)).toBe(false);
    await until(() => !l.get('a').alive);
  });

  it('after a restart, reports exits that happened while it was down, with their times, exactly once', async () => {
    const r = roots();
    const l = new FakeLauncher();
    cleanups.push(() => l.stopAll());
    let d = await daemon(r, l);
    for (const id of ['run', 'three', 'seven', 'killed']) await running(d, id, r.rootfs);
    await d.stop();
    const at = 1_700_000_000_123_456_789n;
    l.get('three').exitWith(3, 0, at);
    l.get('seven').exitWith(7);
    l.get('killed').exitWith(137, 9);
    d = await daemon(r, l);
    await until(() => exitsOf(d).length === 3);
    const p = (id: string) => d.tasks.get('default', id, '').process;
    expect(p('run').status).toBe('running');
    expect(p('three')).toMatchObject({ status: 'stopped', exitStatus: 3, exitedAt: at });
    expect(p('seven')).toMatchObject({ status: 'stopped', exitStatus: 7 });
    expect(p('killed')).toMatchObject({ status: 'stopped', exitStatus: 137, exitSignal: 9 });
    // A shim that replays events already recorded (acks lost) does not double an exit.
    await d.stop();
    for (const s of l.shims.values()) s.replayAll = true;
    d = await daemon(r, l);
    await new Promise((res) => setTimeout(res, 200));
    const exits = exitsOf(d);
    expect(exits.map((e) => e.containerId).sort()).toEqual(['killed', 'seven', 'three']);
    expect(l.get('run').alive).toBe(true);
  });

  it('a shim killed -9 leaves its task stopped with a clear reason; the others are untouched', async () => {
    const r = roots();
    const l = new FakeLauncher();
    cleanups.push(() => l.stopAll());
    const d = await daemon(r, l);
    await running(d, 'victim', r.rootfs);
    await running(d, 'bystander', r.rootfs);
    rmSync(join(r.state, 'default', 'victim', 'shim'), { recursive: true, force: true });
    l.get('victim').die();
    await until(() => d.tasks.get('default', 'victim', '').process.status === 'stopped');
    expect(d.tasks.get('default', 'victim', '').process).toMatchObject({ exitStatus: UNKNOWN_EXIT, reason: SHIM_DIED });
    expect(d.tasks.get('default', 'bystander', '').process.status).toBe('running');
    const exits = exitsOf(d);
    expect(exits).toHaveLength(1);
    expect(exits[0]!.taskExit?.reason).toBe(SHIM_DIED);
    await expect(d.tasks.kill('default', 'victim', '', 9, false)).rejects.toThrow(/already exited/);
    await d.tasks.delete('default', 'victim', false);
    expect(() => d.tasks.get('default', 'victim', '')).toThrow(/not found/);
    expect(l.cleanups).toEqual(['victim']);
  });

  it('a shim found dead at start-up with its exit record on disk reports the true exit', async () => {
    const r = roots();
    const l = new FakeLauncher();
    cleanups.push(() => l.stopAll());
    let d = await daemon(r, l);
    await running(d, 'x', r.rootfs);
    await d.stop();
    l.get('x').exitWith(7); // written to disk, never delivered
    l.get('x').die();
    d = await daemon(r, l);
    expect(d.tasks.get('default', 'x', '').process).toMatchObject({ status: 'stopped', exitStatus: 7, reason: '' });
    expect(exitsOf(d)).toHaveLength(1);
  });

  it('refuses to delete a running task without force; force kills it first', async () => {
    const r = roots();
    const l = new FakeLauncher();
    cleanups.push(() => l.stopAll());
    const d = await daemon(r, l);
    await running(d, 'r', r.rootfs);
    await expect(d.tasks.delete('default', 'r', false)).rejects.toThrow(/running: stop it first/);
    const p = await d.tasks.delete('default', 'r', true);
    expect(p.exitStatus).toBe(137);
    expect(exitsOf(d)).toHaveLength(1);
  });
});
