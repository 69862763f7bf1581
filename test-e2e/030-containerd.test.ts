// berth-containerd with the real berth-shim: the restart contract (DESIGN.md). Containers keep
// running while berth-containerd is killed -9; exits during the gap are reported once, with their
// true codes and times; logs are whole; a TTY answers after re-attach; a shim killed -9 is
// reported with a clear reason and touches nothing else; berth-ctr's commands; nothing is left.
import { createHash, randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testRootfs } from './support/index.js';
import { big, ctrBin, logBytes, n, readLog, sleep, waitFor } from './030-containerd-support.js';
import { COUNTER, RUNNING, STOPPED, runTask, useContainerd } from './support/containerd.js';

describe('berth-containerd', () => {
  const containerd = useContainerd();

  it('kill -9 of berth-containerd: containers run on, exits in the gap are reported once with code and time, logs are whole, a TTY answers', async () => {
    const d = containerd();
    await d.start();
    const data = join(d.roots.dir, 'data');
    mkdirSync(data);
    const bin = randomBytes(64 * 1024);
    writeFileSync(join(data, 'bin'), bin);
    writeFileSync(join(data, 'mb'), Buffer.alloc(1 << 20, 'x'));
    const dataMount = [{ destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro'] }];
    const waitFile = (f: string, code: number) => ['sh', '-c', `while [ ! -e /data/${f} ]; do sleep 0.05; done; echo last-${code}; exit ${code}`];

    await runTask(d, 'count1', COUNTER);
    await runTask(d, 'count2', COUNTER);
    await runTask(d, 'binary', ['sh', '-c', 'cat /data/bin; printf "a\\rb\\r\\n"; cat /data/mb; exec sleep 1000'], { mounts: dataMount });
    await runTask(d, 'exit3', waitFile('go3', 3), { mounts: dataMount });
    await runTask(d, 'exit7', waitFile('go7', 7), { mounts: dataMount });
    const killedPid = await runTask(d, 'killed', ['sleep', '1000']);
    await runTask(d, 'sleep1', ['sleep', '1000']);
    await runTask(d, 'sleep2', ['sleep', '1000']);
    await runTask(d, 'sleep3', ['sleep', '1000']);
    await runTask(d, 'tty', ['sh'], { terminal: true });
    const ids = ['count1', 'count2', 'binary', 'exit3', 'exit7', 'killed', 'sleep1', 'sleep2', 'sleep3', 'tty'];
    const before = await d.call('tasks', 'list', {});
    expect(before.tasks.map((t: { status: number }) => t.status), d.log()).toEqual(ids.map(() => RUNNING));

    await sleep(500);
    await d.kill9();
    // The gap: two containers exit with 3 and 7 after a last line, one is killed by SIGKILL.
    await sleep(1000);
    const gapStart = BigInt(Date.now()) * 1_000_000n;
    writeFileSync(join(data, 'go3'), '');
    writeFileSync(join(data, 'go7'), '');
    process.kill(killedPid, 'SIGKILL');
    await sleep(2500);
    const gapEnd = BigInt(Date.now()) * 1_000_000n;
    await d.start();

    const after = await d.call('tasks', 'list', {});
    const byId = new Map<string, any>(after.tasks.map((t: { containerId: string }) => [t.containerId, t])); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const id of ['count1', 'count2', 'binary', 'sleep1', 'sleep2', 'sleep3', 'tty']) expect(byId.get(id).status, id).toBe(RUNNING);
    for (const [id, code, signal] of [['exit3', 3, 0], ['exit7', 7, 0], ['killed', 137, 9]] as const) {
      const t = byId.get(id);
      expect(t.status, id).toBe(STOPPED);
      expect(t.exitStatus, id).toBe(code);
      expect(t.exitSignal, id).toBe(signal);
      expect(t.reason, id).toBe('');
      // The exit's own time, from the shim, inside the gap: not the time berth-containerd learned of it.
      expect(big(t.exitedAtNs) > gapStart && big(t.exitedAtNs) < gapEnd, `${id} exited at ${t.exitedAtNs}, gap ${gapStart}..${gapEnd}`).toBe(true);
      const w = await d.call('tasks', 'wait', { containerId: id });
      expect(w.exitStatus).toBe(code);
    }

    // Exactly one exit event each, also after one more restart (that replays nothing twice).
    const exitEvents = async () => (await d.events('/tasks/exit')).map((e) => `${e.containerId}:${e.taskExit?.exitStatus}`).sort();
    expect(await exitEvents()).toEqual(['exit3:3', 'exit7:7', 'killed:137']);
    await d.kill9();
    await d.start();
    expect(await exitEvents()).toEqual(['exit3:3', 'exit7:7', 'killed:137']);

    // Logs: every numbered line, no gap, across the restarts; the last lines; the bytes exactly.
    for (const id of ['count1', 'count2']) {
      const t = await d.call('tasks', 'get', { containerId: id });
      const lines = logBytes(readLog(t.process.logPath)).toString('utf8').split('\n').filter(Boolean);
      const numbers = lines.map((l) => Number(/^line (\d+)$/.exec(l)?.[1] ?? NaN));
      expect(numbers.length).toBeGreaterThan(100);
      expect(numbers.every((v, i) => v === i + 1), `${id}: a gap or a torn line in ${numbers.length} lines`).toBe(true);
    }
    for (const [id, code] of [['exit3', 3], ['exit7', 7]] as const) {
      const t = await d.call('tasks', 'get', { containerId: id });
      expect(logBytes(readLog(t.process.logPath)).toString('utf8')).toBe(`last-${code}\n`);
    }
    const bt = await d.call('tasks', 'get', { containerId: 'binary' });
    const expected = Buffer.concat([bin, Buffer.from('a\rb\r\n'), Buffer.alloc(1 << 20, 'x')]);
    const written = await waitFor(() => {
      const got = logBytes(readLog(bt.process.logPath));
      return got.length >= expected.length ? got : undefined;
    });
    expect(written && createHash('sha256').update(written).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));

    // The interactive one answers on a re-attached TTY.
    const io = d.attach('tty');
    io.write('echo $((6*7))\n');
    expect(await waitFor(() => io.out.includes('42'), 5000), `tty output: ${JSON.stringify(io.out)}`).toBe(true);
    io.close();
  });

  it('kill -9 of a shim: its task is reported stopped with a clear reason; the others are untouched', async () => {
    const d = containerd();
    await d.start();
    await runTask(d, 'victim', ['sleep', '1000']);
    await runTask(d, 'bystander', COUNTER);
    const v = await d.call('tasks', 'get', { containerId: 'victim' });
    process.kill(v.process.shimPid, 'SIGKILL');
    const got = await waitFor(async () => {
      const t = await d.call('tasks', 'get', { containerId: 'victim' });
      return t.process.status === STOPPED ? t.process : undefined;
    });
    expect(got, d.log()).toBeTruthy();
    expect(got.reason).toBe('shim died; container state unknown');
    expect(got.exitStatus).toBe(255);
    const exits = await d.events('/tasks/exit');
    expect(exits.map((e) => [e.containerId, e.taskExit?.reason])).toEqual([['victim', 'shim died; container state unknown']]);
    const b = await d.call('tasks', 'get', { containerId: 'bystander' });
    expect(b.process.status).toBe(RUNNING);
    // It stays explained across a restart, and berth-ctr removes what the shim left.
    await d.kill9();
    await d.start();
    expect((await d.call('tasks', 'get', { containerId: 'victim' })).process.reason).toBe('shim died; container state unknown');
    expect((await d.events('/tasks/exit')).length).toBe(1);
    const rm = await d.ctr(['tasks', 'rm', 'victim']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stderr).toContain('shim died; container state unknown');
    expect(await waitFor(() => { try { process.kill(n(v.process.pid), 0); return false; } catch { return true; } }), 'the orphaned container is gone').toBe(true);
    expect((await d.call('tasks', 'get', { containerId: 'bystander' })).process.status).toBe(RUNNING);
  });

  it('a memory hog is reported OOM-killed: /tasks/oom before its one /tasks/exit', async () => {
    const d = containerd();
    await d.start();
    await runTask(d, 'hog', ['sh', '-c', 'x=0123456789; while true; do x=$x$x; done'], { memoryLimit: 32 << 20 });
    const w = await d.call('tasks', 'wait', { containerId: 'hog' });
    expect(w.exitStatus, d.log()).toBe(137);
    expect(w.oomKilled).toBe(true);
    expect((await d.call('tasks', 'get', { containerId: 'hog' })).process.oomKilled).toBe(true);
    const topics = (await d.events('/tasks/')).filter((e) => e.containerId === 'hog').map((e) => e.topic);
    expect(topics).toEqual(['/tasks/create', '/tasks/start', '/tasks/oom', '/tasks/exit']);
  });

  it('berth-ctr: run, containers, tasks, exec, pause, metrics, events, namespaces', async () => {
    const d = containerd();
    await d.start();
    const rootfs = testRootfs();
    const id = `ctr-${randomBytes(3).toString('hex')}`;
    const run = await d.ctr(['run', '--rm', '--rootfs', rootfs, `${id}-once`, 'sh', '-c', 'echo hello; exit 3']);
    expect(run.stdout).toBe('hello\n');
    expect(run.code, run.stderr).toBe(3);
    expect((await d.ctr(['containers', 'ls', '-q'])).stdout).toBe('');

    expect((await d.ctr(['run', '-d', '--rootfs', rootfs, id, 'sleep', '1000'])).code).toBe(0);
    expect((await d.ctr(['containers', 'ls'])).stdout).toMatch(new RegExp(`^CONTAINER\\s+IMAGE\\s+RUNTIME\\n${id}\\s+-\\s+berth-runc\n$`));
    const info = JSON.parse((await d.ctr(['containers', 'info', id])).stdout);
    expect(info).toMatchObject({ ID: id, Rootfs: rootfs, Spec: { process: { args: ['sleep', '1000'] } } });
    expect((await d.ctr(['tasks', 'ls'])).stdout).toMatch(new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    const exec = await d.ctr(['tasks', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo from-exec; exit 4']);
    expect(exec.stdout).toBe('from-exec\n');
    expect(exec.code).toBe(4);
    expect((await d.ctr(['tasks', 'ps', id])).stdout).toMatch(/^PID\s+INFO\n\d+\s+-\n$/);
    expect((await d.ctr(['tasks', 'pause', id])).code).toBe(0);
    expect((await d.ctr(['tasks', 'ls'])).stdout).toContain('PAUSED');
    expect((await d.ctr(['tasks', 'resume', id])).code).toBe(0);
    const metrics = await d.ctr(['tasks', 'metrics', '--format', 'json', id]);
    expect(metrics.code, metrics.stderr).toBe(0);
    expect(Number(JSON.parse(metrics.stdout)[0].memoryUsageBytes)).toBeGreaterThan(0);
    const rmRunning = await d.ctr(['tasks', 'rm', id]);
    expect(rmRunning.code).toBe(1);
    expect(rmRunning.stderr).toContain('stop it first');
    expect((await d.ctr(['tasks', 'kill', '-s', 'KILL', id])).code).toBe(0);
    await waitFor(async () => (await d.ctr(['tasks', 'ls'])).stdout.includes('STOPPED'));
    const rm = await d.ctr(['tasks', 'rm', id]);
    expect(rm.stderr).toContain('exit with non-zero exit code 137');
    expect((await d.ctr(['containers', 'rm', id])).code).toBe(0);
    const events = (await d.ctr(['events', '--since', '0'], 2500)).stdout;
    const topics = events.split('\n').filter(Boolean).map((l) => l.split(' ')[2]);
    expect(topics.filter((t) => t === '/tasks/exit')).toHaveLength(3); // the run, the exec, the kill
    expect(topics).toEqual(expect.arrayContaining(['/containers/create', '/tasks/create', '/tasks/start', '/tasks/exec-added', '/tasks/exec-started', '/tasks/paused', '/tasks/resumed', '/tasks/delete', '/containers/delete']));
    expect((await d.ctr(['namespaces', 'ls', '-q'])).stdout).toBe('default\n');
    const missing = await d.ctr(['tasks', 'kill', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^berth-ctr: task nope: not found/);
  });

  it('berth-ctr run -t: a real terminal of the size of the caller\'s, and the container\'s exit code', async () => {
    const d = containerd();
    await d.start();
    const id = `tty-${randomBytes(3).toString('hex')}`;
    // script(1) gives berth-ctr a real pty, as a user's terminal.
    const cmd = `stty rows 30 cols 100; exec ${process.execPath} ${ctrBin} --address ${d.socket} run -t --rm --rootfs ${testRootfs()} ${id} sh -c 'tty; stty size; exit 5'`;
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 30_000 }, (err, stdout) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, out: stdout });
      });
    });
    expect(r.out).toMatch(/\/dev\/pts\/\d+\r*\n30 100\r*\n/);
    expect(r.code).toBe(5);
    expect((await d.ctr(['containers', 'ls', '-q'])).stdout).toBe('');

    // A detached interactive shell, berth-containerd killed and restarted, then `tasks attach`
    // from a terminal: it answers, and attach exits with the shell's code.
    expect((await d.ctr(['run', '-d', '-t', '--rootfs', testRootfs(), id, 'sh'])).code).toBe(0);
    await d.kill9();
    await d.start();
    const attach = `exec ${process.execPath} ${ctrBin} --address ${d.socket} tasks attach ${id}`;
    const a = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', attach, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
      setTimeout(() => child.stdin.write('echo $((6*7)); exit 3\n'), 1000);
    });
    expect(a.out).toContain('42');
    expect(a.code).toBe(3);
    expect((await d.ctr(['tasks', 'rm', id])).code).toBe(0);
    expect((await d.ctr(['containers', 'rm', id])).code).toBe(0);
  });

  it('runs on Debian\'s runc given by path, and cleans up after its shim is killed', async () => {
    const d = containerd();
    await d.start();
    const id = `runc-${randomBytes(3).toString('hex')}`;
    const run = await d.ctr(['run', '--rm', '--runtime', '/usr/sbin/runc', '--rootfs', testRootfs(), `${id}-once`, 'sh', '-c', 'echo on-runc; exit 6']);
    expect(run.stdout).toBe('on-runc\n');
    expect(run.code, run.stderr).toBe(6);
    expect((await d.ctr(['run', '-d', '--runtime', '/usr/sbin/runc', '--rootfs', testRootfs(), id, 'sleep', '1000'])).code).toBe(0);
    const t = await d.call('tasks', 'get', { containerId: id });
    process.kill(t.process.shimPid, 'SIGKILL');
    expect(await waitFor(async () => (await d.call('tasks', 'get', { containerId: id })).process.status === STOPPED)).toBe(true);
    const rm = await d.ctr(['tasks', 'rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(await waitFor(() => { try { process.kill(n(t.process.pid), 0); return false; } catch { return true; } }), 'runc delete --force ended the orphan').toBe(true);
  });
});
