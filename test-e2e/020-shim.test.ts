// berth-shim through its gRPC API, as berth-containerd drives it: lifecycle and exit codes, the
// log (every line, binary, partial lines), attach, TTYs, exec, pause, events with sequence
// numbers across a client's reconnect, other runtimes (runc, crun), a kill -9 of the shim, OOM.
// Every test is leak-checked: no mount, cgroup, process, socket or fd of ours is left behind.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useLeakCheck } from './support/index.js';
import { Shim, crunWrapper, n, pidAlive, scratch, shimSpec, sleep, waitFor } from './020-shim-support.js';

const LOOP = ['sh', '-c', 'while true; do sleep 0.1; done'];

function useShims(): (spec: object, runtime?: string) => Shim {
  useLeakCheck();
  const made: Shim[] = [];
  // Registered after the leak check, so it runs first: a failed test still removes its container.
  afterEach(async () => {
    for (const s of made.splice(0)) await s.cleanup();
  });
  return (spec, runtime) => {
    const s = new Shim(spec as Record<string, unknown>, runtime);
    made.push(s);
    return s;
  };
}

const RUNTIMES: Array<[string, (dir: string) => string]> = [
  ['berth-runc (in-process)', () => 'berth-runc'],
  ['runc', () => '/usr/sbin/runc'],
  ['crun (wrapped)', (dir) => crunWrapper(dir)],
];

describe.each(RUNTIMES)('berth-shim lifecycle on %s', (_name, runtimeOf) => {
  const shim = useShims();
  const make = (args: string[], terminal = false) => {
    const dir = scratch();
    return shim(shimSpec(dir, args, terminal), runtimeOf(dir));
  };

  it('create → start → wait: exit codes 0, 3 and 137, events in order, delete ends the shim', async () => {
    for (const [args, expected] of [
      [['true'], 0],
      [['sh', '-c', 'echo out; echo err >&2; exit 3'], 3],
      [LOOP, 137],
    ] as const) {
      const s = await make([...args]).start();
      const events = s.events();
      const { pid } = await s.create();
      expect(pid).toBeGreaterThan(0);
      expect((await s.call('state', {})).status).toBe(1); // created
      expect((await s.call('connect', { clientProtocol: 1 })).taskPid).toBe(pid);
      await s.call('start', {});
      if (expected === 137) {
        expect((await s.call('state', {})).status).toBe(2); // running
        await s.call('kill', { signal: 9 });
      }
      const exit = await s.wait();
      expect(exit.exitStatus, s.shimLog()).toBe(expected);
      expect(exit.signal).toBe(expected === 137 ? 9 : 0);
      expect(Math.abs(exit.exitedAtNs / 1e6 - Date.now())).toBeLessThan(10_000);
      const st = await s.call('state', {});
      expect(st.status).toBe(3); // stopped
      expect(st.exit.exitStatus).toBe(expected);
      // The exit record was on disk before the shim told anyone.
      const record = JSON.parse(readFileSync(join(s.bundle.dir, 'shim', 'exit-init.json'), 'utf8'));
      expect(record).toMatchObject({ pid, exitStatus: expected });
      if (expected === 3) {
        const entries = s.logEntries();
        expect(entries.map((e) => [e.stream, e.log])).toEqual(expect.arrayContaining([['stdout', 'out\n'], ['stderr', 'err\n']]));
        expect(entries[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      }
      const del = await s.call('delete', {});
      expect(del.pid).toBe(pid);
      expect(del.exit.exitStatus).toBe(expected);
      expect(await events.until((g) => g.some((e) => e.deleted))).toBe(true);
      expect(events.kinds()).toEqual(['created', 'started', 'exited:init', 'deleted']);
      expect(events.seqs()).toEqual([1, 2, 3, 4]);
      events.close();
      expect(await waitFor(() => !s.shimAlive() && !existsSync(s.socket)), 'the shim exits and removes its socket after the delete').toBe(true);
      expect(existsSync(join(s.bundle.dir, 'shim'))).toBe(false);
      expect(s.cgroupPids()).toEqual([]);
    }
  });

  it('exec with its exit code; kill, pause, resume, pids, stats', async () => {
    const s = await make(LOOP).start();
    const events = s.events();
    const initPid = await s.run();
    const proc = { ...shimSpec(scratch(), ['sh', '-c', 'echo hi from exec; exit 5']).process };
    await s.call('exec', { execId: 'e1', processJson: Buffer.from(JSON.stringify(proc)) });
    const a = s.attach({ execId: 'e1' });
    await sleep(50);
    const { pid: execPid } = await s.call('start', { execId: 'e1' });
    expect(execPid).toBeGreaterThan(0);
    expect((await s.wait('e1')).exitStatus).toBe(5);
    expect(await waitFor(() => a.ended)).toBe(true);
    expect(a.stdout.toString()).toBe('hi from exec\n');
    expect(a.exit?.exitStatus).toBe(5);
    expect((await s.call('delete', { execId: 'e1' })).exit.exitStatus).toBe(5);

    const sleeper = { ...proc, args: ['sleep', '1000'] };
    await s.call('exec', { execId: 'e2', processJson: Buffer.from(JSON.stringify(sleeper)) });
    const { pid: sleepPid } = await s.call('start', { execId: 'e2' });
    const pids = (await s.call('pids', {})).processes.map((p: { pid: number; execId: string }) => [p.pid, p.execId]);
    expect(pids).toEqual(expect.arrayContaining([[initPid, ''], [sleepPid, 'e2']]));
    const stats = await s.call('stats', {});
    expect(n(stats.memoryUsageBytes)).toBeGreaterThan(0);
    expect(n(stats.pidsCurrent)).toBeGreaterThanOrEqual(2);
    await s.call('pause', {});
    expect((await s.call('state', {})).status).toBe(4); // paused
    expect(readFileSync(`/proc/${initPid}/status`, 'utf8')).toMatch(/State:\s+[SD]/);
    await s.call('resume', {});
    expect((await s.call('state', {})).status).toBe(2);
    await s.call('kill', { execId: 'e2', signal: 15 });
    expect((await s.wait('e2')).exitStatus).toBe(143);
    await s.call('kill', { signal: 9, all: true });
    expect((await s.wait()).exitStatus).toBe(137);
    expect(await events.until((g) => g.some((e) => e.exited && !e.exited.execId))).toBe(true);
    expect(events.kinds()).toEqual(['created', 'started', 'execAdded', 'execStarted', 'exited:e1', 'deleted', 'execAdded', 'execStarted', 'paused', 'resumed', 'exited:e2', 'exited:init']);
    events.close();
  });

  it('a TTY sh answers on attach, with the size given at create', async () => {
    const s = await make(['sh'], true).start();
    await s.create({ terminal: true, stdin: true, rows: 33, cols: 111 });
    const a = s.attach({ stdin: true });
    await sleep(50);
    await s.call('start', {});
    a.send('stty size; echo the-answer-$((6*7))\n');
    expect(await waitFor(() => a.stdout.toString().includes('the-answer-42'), 5000), a.stdout.toString()).toBe(true);
    expect(a.stdout.toString()).toContain('33 111');
    a.resize(40, 100);
    await sleep(50);
    a.send('stty size\n');
    expect(await waitFor(() => a.stdout.toString().includes('40 100'), 5000), a.stdout.toString()).toBe(true);
    a.send('exit 4\n');
    expect((await s.wait()).exitStatus).toBe(4);
    expect(await waitFor(() => a.ended)).toBe(true);
    expect(a.exit?.exitStatus).toBe(4);
    // The terminal's output is in the log too, as stdout.
    expect(s.logBytes('stdout').toString()).toContain('the-answer-42');
  });
});
