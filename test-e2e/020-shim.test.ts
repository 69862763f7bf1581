// berth-shim through its gRPC API, as berth-containerd drives it: lifecycle and exit codes, the
// log (every line, binary, partial lines), attach, TTYs, exec, pause, events with sequence
// numbers across a client's reconnect, other runtimes (runc, crun), a kill -9 of the shim, OOM.
// Every test is leak-checked: no mount, cgroup, process, socket or fd of ours is left behind.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const RUNTIMES: Array<[string, (dir: string) => string, string]> = [
  ['berth-runc (in-process)', () => 'berth-runc', 'berth-runc'],
  ['runc', () => '/usr/sbin/runc', 'runc'],
  ['crun (wrapped)', (dir) => crunWrapper(dir), 'crun'],
];

/** Which runtime made a container, from the state it keeps under its --root. */
function runtimeMark(stateDir: string): string {
  const files = readdirSync(stateDir);
  if (files.includes('status')) return 'crun';
  const state = readFileSync(join(stateDir, 'state.json'), 'utf8');
  return state.includes('"init_process_pid"') ? 'runc' : state.includes('"pidStartTime"') ? 'berth-runc' : 'unknown';
}

describe.each(RUNTIMES)('berth-shim lifecycle on %s', (_name, runtimeOf, mark) => {
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
      // The runtime asked for is the one that made it: its own state files under the shim's --root.
      expect(runtimeMark(join(s.bundle.dir, 'shim', 'runtime', s.id))).toBe(mark);
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

  it('a created task that is never started is deleted: killed, its exit told, the shim gone', async () => {
    const s = await make(LOOP).start();
    const events = s.events();
    const { pid } = await s.create();
    expect(pidAlive(pid)).toBe(true);
    const del = await s.call('delete', {});
    expect(del.exit.exitStatus).toBe(137);
    expect(pidAlive(pid)).toBe(false);
    expect(await events.until((g) => g.some((e) => e.deleted))).toBe(true);
    expect(events.kinds()).toEqual(['created', 'exited:init', 'deleted']);
    events.close();
    expect(await waitFor(() => !s.shimAlive() && !existsSync(s.socket))).toBe(true);
  });

  it("a create that fails reports the runtime's reason; Shutdown then ends the shim", async () => {
    const s = await make(['/no/such/binary']).start();
    const err = await s.create().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/no\/such\/binary|no such file/i);
    expect(s.cgroupPids()).toEqual([]);
    await expect(s.call('state', {})).rejects.toThrow(/NOT_FOUND/);
    // Again, with a terminal: the console socket's listener goes with the failure.
    const t0 = Date.now();
    await expect(s.create({ terminal: true })).rejects.toThrow(/no\/such\/binary|no such file/i);
    expect(Date.now() - t0).toBeLessThan(5000);
    await s.call('shutdown', {});
    expect(await waitFor(() => !s.shimAlive() && !existsSync(s.socket))).toBe(true);
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
    await s.call('update', { resourcesJson: Buffer.from(JSON.stringify({ pids: { limit: 77 } })) });
    expect(n((await s.call('stats', {})).pidsLimit)).toBe(77);
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

  it('an exec with a TTY gets its own terminal of the size asked', async () => {
    const s = await make(LOOP).start();
    await s.run();
    const proc = { ...shimSpec(scratch(), ['sh', '-c', 'stty size; tty; exit 9']).process, terminal: true };
    await s.call('exec', { execId: 't1', processJson: Buffer.from(JSON.stringify(proc)), terminal: true, rows: 12, cols: 34 });
    const a = s.attach({ execId: 't1' });
    await sleep(50);
    await s.call('start', { execId: 't1' });
    expect((await s.wait('t1')).exitStatus).toBe(9);
    expect(await waitFor(() => a.ended)).toBe(true);
    expect(a.stdout.toString()).toMatch(/^12 34\r\n\/dev\/pts\/\d+\r\n$/);
    expect((await s.call('state', { execId: 't1' })).terminal).toBe(true);
  });
});

describe('berth-shim: the log, attach and events (berth-runc in-process)', () => {
  const shim = useShims();
  const make = (args: string[]) => shim(shimSpec(scratch(), args));

  it('a container printing a numbered line every 10 ms: the log holds every one, in order', async () => {
    const s = await make(['sh', '-c', 'i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); usleep 10000; done; echo done >&2']).start();
    await s.run();
    expect((await s.wait()).exitStatus).toBe(0);
    const lines = s.logEntries().filter((e) => e.stream === 'stdout').map((e) => e.log);
    expect(lines).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i + 1}\n`));
    expect(s.logEntries().filter((e) => e.stream === 'stderr').map((e) => e.log)).toEqual(['done\n']);
    const times = s.logEntries().map((e) => e.time);
    expect([...times].sort()).toEqual(times);
  });

  it('binary output comes out of the log byte for byte', async () => {
    const s = make(['cat', '/binary.bin']);
    const data = Buffer.concat([randomBytes(300_000), Buffer.from('\r\n\xff\xfe tail without newline', 'latin1')]);
    writeFileSync(join(s.bundle.rootfs, 'binary.bin'), data);
    await s.start();
    await s.run();
    expect((await s.wait()).exitStatus).toBe(0);
    const got = s.logBytes('stdout');
    expect(got.length).toBe(data.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(s.logEntries().some((e) => e.log_b64 !== undefined)).toBe(true);
  });

  it('a 1 MB line without a newline comes out as 64 partial 16 KiB pieces', async () => {
    const s = make(['sh', '-c', 'head -c 1048576 /dev/zero | tr "\\0" x']);
    await s.start();
    await s.run();
    expect((await s.wait()).exitStatus).toBe(0);
    const entries = s.logEntries();
    expect(entries.length).toBe(64);
    for (const e of entries) {
      expect(e.partial).toBe(true);
      expect(e.log.length).toBe(16 * 1024);
    }
    expect(entries.map((e) => e.log).join('')).toBe('x'.repeat(1048576));
  });

  it('log rotation: max_size and max_files', async () => {
    const s = await make(['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "a fairly long line number $i of the rotation test"; i=$((i+1)); done']).start();
    await s.run({ log: { path: s.logPath, maxSize: 20_000, maxFiles: 3 } });
    expect((await s.wait()).exitStatus).toBe(0);
    const sizes = [s.logPath, `${s.logPath}.1`, `${s.logPath}.2`].map((p) => readFileSync(p).length);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(20_000);
    expect(existsSync(`${s.logPath}.3`)).toBe(false);
    const all = [`${s.logPath}.2`, `${s.logPath}.1`, s.logPath].flatMap((p) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).log as string));
    // The newest lines, contiguous, ending with the last.
    const first = Number(/number (\d+)/.exec(all[0]!)![1]);
    expect(all).toEqual(Array.from({ length: 2000 - first }, (_, i) => `a fairly long line number ${first + i} of the rotation test\n`));
  });

  it('attach gets live output and sends stdin to cat; stdin_once ends it when the client leaves', async () => {
    const s = await make(['sh', '-c', 'echo ready; cat; echo cat-ended']).start();
    await s.create({ stdin: true, stdinOnce: true });
    const a = s.attach({ stdin: true });
    await sleep(50);
    await s.call('start', {});
    expect(await waitFor(() => a.stdout.toString() === 'ready\n')).toBe(true);
    a.send('hello\n');
    expect(await waitFor(() => a.stdout.toString() === 'ready\nhello\n'), a.stdout.toString()).toBe(true);
    // A second client sees output from when it attached.
    const b = s.attach({});
    await sleep(50);
    a.send('world\n');
    expect(await waitFor(() => b.stdout.toString() === 'world\n'), b.stdout.toString()).toBe(true);
    a.call.end(); // the first client's input ends (echo x | docker run -i): stdin_once closes the container's stdin
    expect((await s.wait()).exitStatus).toBe(0);
    expect(await waitFor(() => a.ended && b.ended)).toBe(true);
    // The half-closed client still got the output up to the exit.
    expect(a.stdout.toString()).toBe('ready\nhello\nworld\ncat-ended\n');
    expect(a.exit?.exitStatus).toBe(0);
    expect(b.stdout.toString()).toBe('world\ncat-ended\n');
    expect(b.exit?.exitStatus).toBe(0);
    expect(s.logBytes().toString()).toBe('ready\nhello\nworld\ncat-ended\n');
    a.close();
  });

  it('stdin stays open with no client attached; CloseStdin ends it', async () => {
    const s = await make(['sh', '-c', 'cat; echo eof']).start();
    await s.run({ stdin: true });
    const a = s.attach({ stdin: true });
    await sleep(50);
    a.send('one\n');
    expect(await waitFor(() => a.stdout.toString() === 'one\n')).toBe(true);
    a.close(); // not stdin_once: leaving keeps stdin open
    await sleep(200);
    expect((await s.call('state', {})).status).toBe(2);
    const b = s.attach({ stdin: true });
    await sleep(50);
    b.send('two\n');
    await waitFor(() => b.stdout.toString().includes('two'));
    await s.call('closeStdin', {});
    expect((await s.wait()).exitStatus).toBe(0);
    expect(s.logBytes().toString()).toBe('one\ntwo\neof\n');
    b.close();
  });

  it('events: a client that reconnects after the exit gets exactly one TaskExited; after_seq and acks work', async () => {
    const s = await make(['sh', '-c', 'read x; exit 7']).start();
    const first = s.events();
    await s.run({ stdin: true });
    expect(await first.until((g) => g.length === 2)).toBe(true);
    // The client goes away (as a killed containerd would), the container exits meanwhile.
    first.close();
    s.reconnect();
    const writer = s.attach({ stdin: true });
    await sleep(50);
    writer.send('go\n');
    expect(await waitFor(async () => (await s.call('state', {})).status === 3)).toBe(true);
    writer.close();
    s.reconnect();
    const replay = s.events(0);
    expect(await replay.until((g) => g.length >= 3)).toBe(true);
    await sleep(200); // nothing more, nothing twice
    expect(replay.kinds()).toEqual(['created', 'started', 'exited:init']);
    expect(replay.seqs()).toEqual([1, 2, 3]);
    const exited = replay.got[2]!.exited!;
    expect(exited.exit!.exitStatus).toBe(7);
    replay.close();
    const after = s.events(2);
    expect(await after.until((g) => g.length >= 1)).toBe(true);
    await sleep(100);
    expect(after.kinds()).toEqual(['exited:init']);
    after.close();
    // Acknowledged events are not replayed; numbering goes on.
    await s.call('ackEvents', { seq: 2 });
    const acked = s.events(0);
    expect(await acked.until((g) => g.length >= 1)).toBe(true);
    await s.call('delete', {});
    expect(await acked.until((g) => g.length >= 2)).toBe(true);
    expect(acked.seqs()).toEqual([3, 4]);
    acked.close();
  });

  it('kill -9 of the shim leaves its container running and its records on disk', async () => {
    const s = await make(LOOP).start();
    const pid = await s.run();
    process.kill(s.shimPid, 'SIGKILL');
    expect(await waitFor(() => !s.shimAlive())).toBe(true);
    await sleep(300);
    expect(pidAlive(pid)).toBe(true);
    expect(s.cgroupPids()).toContain(pid);
    expect(readFileSync(join(s.bundle.dir, 'shim', 'events.log'), 'utf8')).toMatch(/"started"/);
    expect(existsSync(join(s.bundle.dir, 'shim', 'exit-init.json'))).toBe(false); // it has not exited
    // cleanup() kills the container and deletes it with the berth-runc CLI on the shim's state.
  });

  it('a memory hog is reported oom_killed, with TaskOOM before TaskExited', async () => {
    const spec = shimSpec(scratch(), ['sh', '-c', 'echo start; x=0123456789; while true; do x=$x$x; done']);
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
    const s = await shim(spec).start();
    const events = s.events();
    await s.run();
    const exit = await s.wait();
    expect(exit.oomKilled, s.shimLog()).toBe(true);
    expect(exit.exitStatus).toBe(137);
    expect(await events.until((g) => g.some((e) => e.exited))).toBe(true);
    expect(events.kinds()).toEqual(['created', 'started', 'oom', 'exited:init']);
    expect((await s.call('state', {})).exit.oomKilled).toBe(true);
    events.close();
  });

  it('an idle shim stays small (PSS and private anonymous memory reported)', async () => {
    const s = await make(LOOP).start();
    await s.run();
    await sleep(1000);
    const rollup = readFileSync(`/proc/${s.shimPid}/smaps_rollup`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    // Anonymous memory is what each shim adds; PSS also counts a share of node's text, which
    // depends on how many other node processes run at the moment.
    console.log(`idle berth-shim: Pss ${kb('Pss')} kB, Anonymous ${kb('Anonymous')} kB, Rss ${kb('Rss')} kB`);
    expect(kb('Anonymous')).toBeGreaterThan(4 * 1024);
    expect(kb('Anonymous'), 'an idle Node process with a grpc-js server holds ~12 MB; the shim ~16 MB').toBeLessThan(24 * 1024);
  });
});
