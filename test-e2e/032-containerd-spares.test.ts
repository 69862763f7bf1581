// Spare shims (packages/containerd/README.md): berth-containerd keeps a started shim waiting, a
// task create claims it, and from then on it is that task's shim like any other: it survives a
// kill -9 of berth-containerd, is re-found, and reports the exit. Spares are never tasks, never
// outlive their berth-containerd, and a new berth-containerd retires the ones it finds. Attach
// answers `attached` first (the acknowledgement berthd waits for).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { AttachResponse, IAttachRequest } from '@berth/api/berth/tasks/v1';
import { type Containerd, n, shimBin, sleep, spec, waitFor } from './030-containerd-support.js';
import { RUNNING, STOPPED, runTask, useContainerd } from './support/containerd.js';
import { testRootfs } from './support/index.js';

/** The spare sockets under `<state>/spare`. */
function spareSockets(d: Containerd): string[] {
  const dir = join(d.roots.state, 'spare');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sock')).map((f) => join(dir, f)) : [];
}

/** Live processes whose command line holds `needle` (zombies excluded). */
function pidsWith(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(needle)) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

const spareProcesses = (d: Containerd): number[] => pidsWith('spare').filter((p) => {
  try {
    return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(d.roots.state, 'spare'));
  } catch {
    return false;
  }
});

async function oneSpare(d: Containerd): Promise<{ socket: string; pid: number }> {
  const ready = await waitFor(() => {
    const s = spareSockets(d);
    return s.length === 1 && pidsWith(s[0]!).length === 1 ? s[0] : undefined;
  });
  expect(ready, `a spare shim is ready:\n${d.log()}`).toBeTruthy();
  return { socket: ready!, pid: pidsWith(ready!)[0]! };
}

describe('berth-containerd spare shims', () => {
  const containerd = useContainerd();

  it('a claimed spare runs the task; kill -9 of berth-containerd: the task runs on, is re-found, and its exit is reported', async () => {
    const d = containerd();
    await d.start();
    const spare = await oneSpare(d);
    await runTask(d, 'c1', ['sleep', '1000']);
    const t = await d.call('tasks', 'get', { containerId: 'c1' });
    expect(t.process.status).toBe(RUNNING);
    // The task's shim is the spare: it moved to the task's bundle and serves the task's socket;
    // its spare socket is gone and another spare takes its place.
    expect(n(t.process.shimPid), d.log()).toBe(spare.pid);
    const bundle = join(d.roots.state, 'default', 'c1');
    expect(readlinkSync(`/proc/${spare.pid}/cwd`)).toBe(bundle);
    expect(readFileSync(join(bundle, 'shim', 'shim.pid'), 'utf8')).toBe(String(spare.pid));
    expect(readFileSync(join(bundle, 'shim', 'address'), 'utf8')).toMatch(new RegExp(`^unix://${d.roots.state}/s/[0-9a-f]{12}\\.sock$`));
    expect(existsSync(spare.socket)).toBe(false);
    const next = await oneSpare(d);
    expect(next.pid).not.toBe(spare.pid);
    // Spares are not tasks.
    expect((await d.call('tasks', 'list', {})).tasks.map((x: { containerId: string }) => x.containerId)).toEqual(['c1']);

    await d.kill9();
    // The unclaimed spare goes with its berth-containerd; the claimed one is a task's shim and stays.
    expect(await waitFor(() => pidsWith(next.socket).length === 0, 5000), 'an orphaned spare retires itself').toBe(true);
    expect(pidsWith('spare')).toContain(spare.pid);

    await d.start();
    const again = await d.call('tasks', 'get', { containerId: 'c1' });
    expect(again.process.status, d.log()).toBe(RUNNING);
    expect(n(again.process.shimPid)).toBe(spare.pid);
    expect(d.log()).toContain('reconnected to shim');
    await d.call('tasks', 'kill', { containerId: 'c1', signal: 9 });
    const exited = await waitFor(async () => {
      const x = await d.call('tasks', 'get', { containerId: 'c1' });
      return x.process.status === STOPPED ? x.process : undefined;
    });
    expect(exited, d.log()).toBeTruthy();
    expect(exited.exitStatus).toBe(137);
    expect(exited.reason).toBe('');
    const exits = await d.events('/tasks/exit');
    expect(exits.map((e) => [e.containerId, e.taskExit?.exitStatus])).toEqual([['c1', 137]]);
  });

  it('spares of an earlier berth-containerd are retired and replaced; a clean stop leaves none', async () => {
    const d = containerd();
    // A spare some other berth-containerd left, whose owner (this runner) is still alive, so it
    // would not go by itself: the new berth-containerd must retire it.
    const old = join(d.roots.state, 'spare', 'feedfacecafe.sock');
    const r = spawnSync('setsid', ['--fork', process.execPath, shimBin, 'spare', '--socket', old, '--owner', String(process.pid)], { stdio: 'ignore' });
    expect(r.status).toBe(0);
    expect(await waitFor(() => existsSync(old))).toBe(true);
    const oldPid = pidsWith(old)[0]!;
    expect(oldPid).toBeGreaterThan(0);
    await d.start();
    expect(await waitFor(() => pidsWith(old).length === 0, 5000), 'the earlier spare is retired').toBe(true);
    const fresh = await oneSpare(d);
    expect(fresh.socket).not.toBe(old);
    // A restart retires this instance's spare too and starts another.
    await d.kill9();
    await d.start();
    const after = await oneSpare(d);
    expect(after.pid).not.toBe(fresh.pid);
    expect(pidsWith(fresh.socket)).toEqual([]);
    await d.stop();
    expect(spareProcesses(d), 'no spare after a clean stop').toEqual([]);
    expect(spareSockets(d)).toEqual([]);
  });

  it('--shim-spares 0 (BERTH_SHIM_SPARES=0): every shim starts cold, and the task is the same', async () => {
    const d = containerd();
    process.env.BERTH_SHIM_SPARES = '0';
    try {
      await d.start();
    } finally {
      delete process.env.BERTH_SHIM_SPARES;
    }
    await runTask(d, 'cold', ['sleep', '1000']);
    const t = await d.call('tasks', 'get', { containerId: 'cold' });
    expect(t.process.status).toBe(RUNNING);
    expect(readFileSync(`/proc/${n(t.process.shimPid)}/cmdline`, 'utf8').split('\0')).toContain('serve');
    await sleep(300);
    expect(spareProcesses(d)).toEqual([]);
  });

  it('Attach answers `attached` first, announced by a header, before any output', async () => {
    const d = containerd();
    await d.start();
    await d.call('containers', 'create', { container: { id: 'a1', runtime: { name: 'berth-runc' }, specJson: spec('a1', ['echo', 'hello']), rootfs: testRootfs() } });
    await d.call('tasks', 'create', { containerId: 'a1', rows: 24, cols: 80 });
    const stream = d.api().tasks.attach() as grpc.ClientDuplexStream<IAttachRequest, AttachResponse>;
    const header = new Promise<grpc.Metadata>((r) => stream.once('metadata', r));
    const got: string[] = [];
    let out = '';
    stream.on('data', (m: AttachResponse) => {
      got.push(m.output ?? '');
      if (m.stdout) out += Buffer.from(m.stdout).toString('utf8');
    });
    const ended = new Promise<void>((r) => { stream.on('end', r); stream.on('error', () => r()); });
    stream.write({ start: { containerId: 'a1', stdout: true, stderr: true } });
    expect((await header).get('berth-attach-ack')).toEqual(['1']);
    expect(await waitFor(() => got.length > 0, 5000)).toBe(true);
    expect(got).toEqual(['attached']);
    await d.call('tasks', 'start', { containerId: 'a1' });
    await ended;
    expect(out).toBe('hello\n');
    expect(got[0]).toBe('attached');
    expect(got.at(-1)).toBe('exit');
  });
});
