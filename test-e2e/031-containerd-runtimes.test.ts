// The restart contract (DESIGN.md) on other OCI runtimes (issue 3, "What must show" 2): the
// kill -9 lifecycle of 030, through berth-containerd's gRPC API and berth-ctr, with the shims
// driving Debian's runc by path, and crun (wrapped: it refuses this machine's hybrid cgroup
// layout unless /sys/fs/cgroup/unified is hidden). Containers keep running while
// berth-containerd is killed -9; a container that exits 3 and one killed by SIGKILL during the
// gap are reported with their codes and times, one exit event each; logs are whole; the
// runtime asked for is proven to be the one that made each container. Leak-checked.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testRootfs } from './support/index.js';
import { COUNTER, RUNNING, STOPPED, runTask, runtimeMark, useContainerd } from './support/containerd.js';
import { big, logBytes, readLog, sleep, waitFor, type Containerd } from './030-containerd-support.js';
import { crunWrapper } from './020-shim-support.js';

/** Whether `pid` runs (a zombie does not: its exit is decided). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every `line N` of a counter's log, as numbers. */
async function counted(d: Containerd, id: string): Promise<number[]> {
  const t = await d.call('tasks', 'get', { containerId: id });
  const lines = logBytes(readLog(t.process.logPath)).toString('utf8').split('\n').filter(Boolean);
  return lines.map((l) => Number(/^line (\d+)$/.exec(l)?.[1] ?? NaN));
}

const RUNTIMES: Array<[string, (dir: string) => string, string]> = [
  ['Debian\'s runc (/usr/sbin/runc)', () => '/usr/sbin/runc', 'runc'],
  ['crun (wrapped)', (dir) => crunWrapper(dir), 'crun'],
];

describe.each(RUNTIMES)('berth-containerd on %s', (_name, runtimeIn, mark) => {
  const containerd = useContainerd();

  it('kill -9 of berth-containerd: running ones run on, exits 3 and 137 in the gap are reported once with their times, logs are whole', async () => {
    const d = containerd();
    const runtime = runtimeIn(d.roots.dir);
    await d.start();
    const data = join(d.roots.dir, 'data');
    mkdirSync(data);
    // On /run, a directory the image has: a runtime makes a missing mount point inside the
    // (shared, read-only to the container) rootfs.
    const dataMount = [{ destination: '/run', type: 'bind', source: data, options: ['rbind', 'ro'] }];

    // Through the API: a counter, one that exits 3 after a last line when told, one to be
    // killed; through berth-ctr: one that sleeps.
    await runTask(d, 'count', COUNTER, { runtime });
    const exit3Pid = await runTask(d, 'exit3', ['sh', '-c', 'while [ ! -e /run/go ]; do sleep 0.05; done; echo last-3; exit 3'], { runtime, mounts: dataMount });
    const killedPid = await runTask(d, 'killed', ['sleep', '1000'], { runtime });
    const run = await d.ctr(['run', '-d', '--runtime', runtime, '--rootfs', testRootfs(), 'sleeper', 'sleep', '1000']);
    expect(run.code, run.stderr).toBe(0);
    const ids = ['count', 'exit3', 'killed', 'sleeper'];
    const before = await d.call('tasks', 'list', {});
    expect(before.tasks.map((t: { containerId: string; status: number }) => `${t.containerId}:${t.status}`).sort(), d.log()).toEqual(ids.map((id) => `${id}:${RUNNING}`).sort());
    // The runtime asked for made every one of them (its own state under the shim's --root).
    for (const id of ids) expect(runtimeMark(d, id), id).toBe(mark);

    await sleep(300);
    await d.kill9();
    // The gap: one exits 3 after its last line, one is killed by SIGKILL.
    await sleep(700);
    const gapStart = BigInt(Date.now()) * 1_000_000n;
    writeFileSync(join(data, 'go'), '');
    process.kill(killedPid, 'SIGKILL');
    expect(await waitFor(() => !alive(exit3Pid) && !alive(killedPid), 5000), 'both ended in the gap').toBe(true);
    await sleep(700); // the shims write their exit records while nobody listens
    const gapEnd = BigInt(Date.now()) * 1_000_000n;
    await d.start();

    const after = await d.call('tasks', 'list', {});
    const byId = new Map<string, any>(after.tasks.map((t: { containerId: string }) => [t.containerId, t])); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const id of ['count', 'sleeper']) expect(byId.get(id).status, `${id}\n${d.log()}`).toBe(RUNNING);
    for (const [id, code, signal] of [['exit3', 3, 0], ['killed', 137, 9]] as const) {
      const t = byId.get(id);
      expect(t.status, id).toBe(STOPPED);
      expect(t.exitStatus, id).toBe(code);
      expect(t.exitSignal, id).toBe(signal);
      expect(t.reason, id).toBe('');
      // The exit's own time, from the shim: inside the gap, not when berth-containerd learned of it.
      expect(big(t.exitedAtNs) > gapStart && big(t.exitedAtNs) < gapEnd, `${id} exited at ${t.exitedAtNs}, gap ${gapStart}..${gapEnd}`).toBe(true);
      const w = await d.call('tasks', 'wait', { containerId: id });
      expect(w.exitStatus, id).toBe(code);
      expect(big(w.exitedAtNs), id).toBe(big(t.exitedAtNs));
    }

    // Exactly one exit event each, also after one more kill -9 and restart.
    const exitEvents = async () => (await d.events('/tasks/exit')).map((e) => `${e.containerId}:${e.taskExit?.exitStatus}`).sort();
    expect(await exitEvents()).toEqual(['exit3:3', 'killed:137']);
    await d.kill9();
    await d.start();
    expect(await exitEvents()).toEqual(['exit3:3', 'killed:137']);

    // Logs: every numbered line, no gap, across both restarts, and still growing; the last line.
    const numbers = await counted(d, 'count');
    expect(numbers.length).toBeGreaterThan(100);
    expect(numbers.every((v, i) => v === i + 1), `a gap or a torn line in ${numbers.length} lines`).toBe(true);
    expect(await waitFor(async () => (await counted(d, 'count')).length > numbers.length + 10, 5000), 'the counter still writes').toBe(true);
    const e3 = await d.call('tasks', 'get', { containerId: 'exit3' });
    expect(logBytes(readLog(e3.process.logPath)).toString('utf8')).toBe('last-3\n');

    // The reconnected shims still obey: berth-ctr kills the sleeper, its one exit is 137.
    expect((await d.ctr(['tasks', 'kill', '-s', 'KILL', 'sleeper'])).code).toBe(0);
    expect((await d.call('tasks', 'wait', { containerId: 'sleeper' })).exitStatus).toBe(137);
    expect(await exitEvents()).toEqual(['exit3:3', 'killed:137', 'sleeper:137']);
    const rm = await d.ctr(['tasks', 'rm', 'sleeper']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await d.ctr(['containers', 'rm', 'sleeper'])).code).toBe(0);
  });
});
