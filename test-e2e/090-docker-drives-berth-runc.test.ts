// Real Docker drives berth-runc (issue 2, "What must show" 2): Debian's dockerd, private to this
// file, with `--add-runtime berth=<berth-runc>`, Docker's default seccomp profile and settings.
// Every case runs with Docker's own runc first (the oracle, and the proof of the harness), then
// with berth-runc. Nothing is pulled: the image is the busybox test image, `docker import`ed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importTestImage, runInPty, startDockerd, type Dockerd, type DockerResult } from './support/dockerd.js';
import { assertNoLeaks, repoRoot, snapshotLeaks, testImageTar, type LeakSnapshot } from './support/index.js';
import { acquireLock, releaseLock } from './support/lock.js';

const IMAGE = 'berth-test/busybox:latest';
const berthRunc = process.env.BERTH_RUNC ?? join(repoRoot, 'packages/runc/dist/berth-runc.cjs');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let d: Dockerd | undefined;
let startError: unknown;
let fileBefore: LeakSnapshot | undefined;

/** The daemon; when it could not start (say docker.io is missing) every test fails with why. */
const daemon = (): Dockerd => {
  if (startError) throw startError;
  if (!d) throw new Error('dockerd did not start');
  return d;
};

/** A failure message: the command, what it printed, and the daemon's and runtime's words. */
const why = (r: DockerResult): string =>
  `${r.cmd}\nexit ${r.code ?? r.signal} after ${r.ms} ms\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}\n\n${daemon().evidence()}`;

const inspect = async (id: string, format: string): Promise<string> => (await daemon().dockerOk(['inspect', '-f', format, id])).trim();

async function waitForLog(id: string, re: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await daemon().docker(['logs', id]);
    if (re.test(r.stdout)) return r.stdout;
    if (Date.now() > deadline) throw new Error(`container ${id.slice(0, 12)} did not log ${re} within ${timeoutMs} ms; its log: ${JSON.stringify(r.stdout + r.stderr)}\n\n${daemon().evidence()}`);
    await sleep(100);
  }
}

/** The container's cgroup directory in one v1 hierarchy, as Docker asked for it (/<parent>/<id>). */
const cgroupDir = (controller: string, id: string): string => `/sys/fs/cgroup/${controller}/${daemon().cgroupParent}/${id}`;

beforeAll(async () => {
  try {
    // The whole file holds the machine-wide leak-check lock: the daemon's mounts, cgroups and
    // processes are checked from before it starts until after it is gone.
    await acquireLock();
    fileBefore = snapshotLeaks();
    // Without a built berth-runc the runc cases still run; the berth ones fail saying so.
    d = await startDockerd({ runtimes: existsSync(berthRunc) ? { berth: berthRunc } : {} });
    await importTestImage(d, testImageTar(), IMAGE);
  } catch (e) {
    startError = e; // reported by every test, not turned into skips
  }
}, 18 * 60_000); // the lock may be held by another runner's tests for a while (acquireLock gives up at 15 min)

afterAll(async () => {
  try {
    if (d) {
      const forced = await d.stop();
      // dockerd stops its own containers and containerd and unmounts its roots; anything the
      // teardown had to force is worth seeing (the leak check below has the final word).
      if (forced.length) console.warn(`dockerd teardown had to force:\n  ${forced.join('\n  ')}`);
    }
    if (fileBefore) await assertNoLeaks(fileBefore, { settleMs: 5_000 });
  } finally {
    releaseLock();
  }
}, 120_000);

// Per test: nothing is left once its containers are removed, but the daemon's cgroup parent.
let testBefore: LeakSnapshot | undefined;
beforeEach(() => {
  testBefore = snapshotLeaks();
  d?.mark();
});
afterEach(async () => {
  const before = testBefore;
  testBefore = undefined;
  if (!d || !before || startError) return;
  // A failed test may leave containers: remove them (a removal that fails shows in the check).
  const left = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (left.length) await d.docker(['rm', '-f', ...left], { timeoutMs: 60_000 });
  expect(d.cgroupPids(), 'no process is left in the containers\' cgroups').toEqual([]);
  const parent = d.cgroupParent.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await assertNoLeaks(before, { settleMs: 5_000, ignoreCgroups: [new RegExp(`^/sys/fs/cgroup/[^/]+/${parent}$`)] });
});

it('has the docker CLI and daemon, and dockerd knows the berth runtime', async () => {
  expect(existsSync(berthRunc), `${berthRunc} is missing: run npm run build (or set BERTH_RUNC)`).toBe(true);
  const info = await daemon().dockerOk(['info', '--format', '{{json .Runtimes}} {{.Driver}} {{.CgroupDriver}} {{json .SecurityOptions}}']);
  expect(info).toContain('"berth"');
  expect(info).toContain(' overlay2 cgroupfs ');
  expect(info).toContain('seccomp');
});

describe.each(['runc', 'berth'])('docker --runtime %s', (runtime) => {
  const base = ['--runtime', runtime, '--network', 'none', '--pull', 'never'];
  beforeEach(() => {
    if (runtime === 'berth' && !existsSync(berthRunc)) throw new Error(`${berthRunc} is missing: run npm run build (or set BERTH_RUNC)`);
  });

  it("runs a container under Docker's default seccomp profile and passes its exit code", async () => {
    const callsBefore = daemon().runtimeCalls('berth').length;
    const r = await daemon().docker(['run', ...base, '--rm', IMAGE, 'sh', '-c', 'grep Seccomp: /proc/self/status; exit 42']);
    expect(r.stdout, why(r)).toBe('Seccomp:\t2\n');
    expect(r.code, why(r)).toBe(42);
    expect((await daemon().docker(['ps', '-aq'])).stdout).toBe(''); // --rm removed it
    // The runtime asked for is the one that ran it: the berth wrapper saw create/start/delete.
    const calls = daemon().runtimeCalls('berth').slice(callsBefore);
    const verbs = calls.split('\n').map((l) => / (create|start|delete) /.exec(l)?.[1]).filter(Boolean);
    if (runtime === 'berth') expect(verbs.slice(0, 3)).toEqual(['create', 'start', 'delete']);
    else expect(calls).toBe('');
  });

  it("-it gives a shell on a terminal of the client's size", async () => {
    const name = `it-${runtime}`;
    const pty = runInPty([...daemon().cli, 'run', '-it', ...base, '--rm', '--name', name, IMAGE, 'sh'], {
      rows: 33,
      cols: 101,
      env: daemon().clientEnv,
    });
    try {
      await pty.waitFor(/# /, 30_000);
      // ash redraws its line as it edits (and asks the terminal where the cursor is), so the
      // echo of what is typed is not matched on: only output that the typed text cannot show.
      pty.write('echo "size=$(stty size)"\r');
      const [, size] = await pty.waitFor(/size=(\d+ \d+)\r\n/, 10_000);
      expect(size, JSON.stringify(pty.output())).toBe('33 101');
      const from = pty.output().length;
      pty.write('echo "hi$((6*7))"; exit 5\r');
      await pty.waitFor(/hi42\r\n/, 10_000, from);
      const end = await Promise.race([pty.exited, sleep(20_000).then(() => undefined)]);
      expect(end, `docker run -it did not end after exit 5; the terminal showed:\n${JSON.stringify(pty.output())}\n\n${daemon().evidence()}`).toEqual({ code: 5, signal: null });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n\n${daemon().evidence()}`);
    } finally {
      pty.kill();
      await pty.exited;
    }
  });

  it("exec -it gives a process a terminal of the client's size", async () => {
    const dk = daemon();
    const started = await dk.docker(['run', '-d', ...base, '--name', `exec-it-${runtime}`, IMAGE, 'sleep', '1000']);
    expect(started.code, why(started)).toBe(0);
    const id = started.stdout.trim();
    // The docker CLI sizes an exec's terminal just after starting it: wait (5 s at most) for a size.
    // (Until then busybox's stty size prints nothing and an error.)
    const show = 'i=0; while [ $i -lt 50 ]; do s=$(stty size 2>/dev/null); case "$s" in [1-9]*) break ;; esac; sleep 0.1; i=$((i+1)); done; echo "$s"; tty; exit 3';
    const pty = runInPty([...dk.cli, 'exec', '-it', id, 'sh', '-c', show], { rows: 40, cols: 120, env: dk.clientEnv });
    try {
      const end = await Promise.race([pty.exited, sleep(20_000).then(() => undefined)]);
      expect(pty.output(), `the terminal showed:\n${JSON.stringify(pty.output())}\n\n${dk.evidence()}`).toMatch(/^40 120\r\n\/dev\/pts\/\d+\r\n/);
      expect(end, `docker exec -it did not end with 3; the terminal showed:\n${JSON.stringify(pty.output())}\n\n${dk.evidence()}`).toEqual({ code: 3, signal: null });
    } finally {
      pty.kill();
      await pty.exited;
    }
    const rm = await dk.docker(['rm', '-f', id]);
    expect(rm.code, why(rm)).toBe(0);
  });

  it('a detached container: exec, top, pause/unpause, kill -s USR1, stop, start, kill, rm -f', async () => {
    const dk = daemon();
    const script = 'trap "echo got-usr1" USR1; trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 1 & wait $!; done';
    const started = await dk.docker(['run', '-d', ...base, '--name', `life-${runtime}`, IMAGE, 'sh', '-c', script]);
    expect(started.code, why(started)).toBe(0);
    const id = started.stdout.trim();
    await waitForLog(id, /^ready$/m);
    expect(await inspect(id, '{{.State.Status}} {{.HostConfig.Runtime}}')).toBe(`running ${runtime}`);
    const pid = Number(await inspect(id, '{{.State.Pid}}'));
    expect(pid).toBeGreaterThan(1);
    // Docker asked for cgroupsPath /<parent>/<id>; the init is there.
    expect(readFileSync(join(cgroupDir('pids', id), 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));

    // exec: a new process in the container's pid namespace.
    const ex = await dk.docker(['exec', id, 'sh', '-c', 'echo $$; ps']);
    expect(ex.code, why(ex)).toBe(0);
    const [self, ...ps] = ex.stdout.split('\n');
    expect(self, why(ex)).toMatch(/^\d+$/);
    expect(ps.join('\n'), why(ex)).toMatch(/^\s*1\s+root\s+sh -c trap/m);
    expect(ps.some((l) => l.trim().startsWith(`${self} `)), why(ex)).toBe(true);

    // top: the host's view of the container's processes (runtime ps).
    const top = await dk.docker(['top', id]);
    expect(top.code, why(top)).toBe(0);
    expect(top.stdout, why(top)).toMatch(new RegExp(`^\\S+\\s+${pid}\\s+\\d+.*sh -c trap`, 'm'));

    // pause/unpause: the freezer.
    const pause = await dk.docker(['pause', id]);
    expect(pause.code, why(pause)).toBe(0);
    expect(await inspect(id, '{{.State.Paused}} {{.State.Status}}')).toBe('true paused');
    expect(readFileSync(join(cgroupDir('freezer', id), 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
    const unpause = await dk.docker(['unpause', id]);
    expect(unpause.code, why(unpause)).toBe(0);
    expect(await inspect(id, '{{.State.Paused}} {{.State.Status}}')).toBe('false running');
    expect(readFileSync(join(cgroupDir('freezer', id), 'freezer.state'), 'utf8').trim()).toBe('THAWED');
    const alive = await dk.docker(['exec', id, 'echo', 'thawed']);
    expect(alive.stdout, why(alive)).toBe('thawed\n');

    // kill -s USR1 reaches the container's trap.
    const usr1 = await dk.docker(['kill', '-s', 'USR1', id]);
    expect(usr1.code, why(usr1)).toBe(0);
    await waitForLog(id, /^got-usr1$/m);
    expect(await inspect(id, '{{.State.Status}}')).toBe('running');

    // stop -t 2: SIGTERM, which the trap turns into exit 7 (a SIGKILL after 2 s would give 137).
    const stop = await dk.docker(['stop', '-t', '2', id]);
    expect(stop.code, why(stop)).toBe(0);
    expect(await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 7');
    expect((await dk.docker(['logs', id])).stdout).toMatch(/^got-term$/m);

    // start again, then kill (SIGKILL): 137.
    const restart = await dk.docker(['start', id]);
    expect(restart.code, why(restart)).toBe(0);
    expect(await inspect(id, '{{.State.Status}}')).toBe('running');
    await waitForLog(id, /^ready\n(.*\n)*ready$/m);
    const kill = await dk.docker(['kill', id]);
    expect(kill.code, why(kill)).toBe(0);
    const deadline = Date.now() + 10_000;
    while ((await inspect(id, '{{.State.Status}}')) !== 'exited' && Date.now() < deadline) await sleep(50);
    expect(await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 137');
    const rm = await dk.docker(['rm', id]);
    expect(rm.code, why(rm)).toBe(0);
    expect(existsSync(cgroupDir('pids', id)), 'the container cgroup is removed with it').toBe(false);
  });

  it('stop escalates to SIGKILL after -t when the init ignores SIGTERM; rm -f removes a running container', async () => {
    const dk = daemon();
    // sleep as pid 1 has no SIGTERM handler, so the kernel drops SIGTERM: stop must SIGKILL.
    const started = await dk.docker(['run', '-d', ...base, '--name', `sleep-${runtime}`, IMAGE, 'sleep', '1000']);
    expect(started.code, why(started)).toBe(0);
    const id = started.stdout.trim();
    expect(await inspect(id, '{{.State.Status}}')).toBe('running');
    const stop = await dk.docker(['stop', '-t', '2', id]);
    expect(stop.code, why(stop)).toBe(0);
    expect(stop.ms, why(stop)).toBeGreaterThanOrEqual(1_900);
    expect(await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 137');

    const restart = await dk.docker(['start', id]);
    expect(restart.code, why(restart)).toBe(0);
    const pid = Number(await inspect(id, '{{.State.Pid}}'));
    expect(pid).toBeGreaterThan(1);
    const rmf = await dk.docker(['rm', '-f', id]);
    expect(rmf.code, why(rmf)).toBe(0);
    expect((await dk.docker(['ps', '-aq'])).stdout, 'rm -f removed it').toBe('');
    expect(existsSync(`/proc/${pid}`), `the container's init ${pid} is gone`).toBe(false);
    expect(existsSync(cgroupDir('pids', id)), 'the container cgroup is removed with it').toBe(false);
  });
});

it('a container looks the same from inside under berth as under runc (the oracle)', async () => {
  const probe = [
    "grep -E '^(Cap|Seccomp|NoNewPrivs)' /proc/self/status",
    'echo "umask $(umask)"',
    'echo "hostname $(hostname)"',
    'id',
    'echo "oom_score_adj $(cat /proc/self/oom_score_adj)"',
    "ls -la /dev | awk '{print $1, $3, $4, $5, $6, $NF}'",
    'cat /proc/self/cgroup',
    "awk '{print $5, $9, $6, $4}' /proc/self/mountinfo",
    'cat /proc/self/limits',
    "ls /proc/self/ns",
    'env | sort',
  ].join('; ');
  const seen: Record<string, string> = {};
  for (const runtime of ['runc', 'berth']) {
    const r = await daemon().docker(['run', '--rm', '--runtime', runtime, '--network', 'none', '--pull', 'never', '--hostname', 'probe', IMAGE, 'sh', '-c', probe]);
    expect(r.code, why(r)).toBe(0);
    seen[runtime] = r.stdout.replace(/[0-9a-f]{64}/g, '<id>');
  }
  expect(seen.runc).toMatch(/^Seccomp:\t2$/m);
  expect(seen.runc).toMatch(/^\/ overlay /m);
  expect(seen.runc).toMatch(/^hostname probe$/m);
  expect(seen.berth).toBe(seen.runc);
});
