// berth-runc's behaviours as a runtime CLI: state transitions, limits that bite, the freezer,
// signals, exec, ps, list, hooks, and bad bundles. Where the assertion is about compatibility,
// Debian's runc runs the same test, so a case that fails only for berth-runc is berth-runc's.
// Every test is leak-checked: no mount, cgroup, state directory or process is left behind.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { berthRuntime, runtimeLeakOptions, describeRun, makeBundle, runRuntime, runcDefaultSpec, runcRuntime, type Bundle, type RunOptions, type RunResult, type Runtime } from './support/bundle.js';
import { tempRoots, useLeakCheck, type TempRoots } from './support/index.js';

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `ms` pass; returns the last value. */
async function waitFor<T>(check: () => Promise<T> | T, ms = 5000, every = 25): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await check();
  while (!v && Date.now() < deadline) {
    await sleep(every);
    v = await check();
  }
  return v;
}

const RUNTIMES: [string, () => Runtime][] = [
  ['runc', runcRuntime],
  ['berth-runc', berthRuntime],
];

/**
 * runc's default spec (no terminal, no ambient capabilities: see 010), with a writable root so
 * containers can leave marks the host reads, and `args` as the process.
 */
function lifecycleSpec(scratch: string, args: string[]): Spec {
  const spec = runcDefaultSpec(scratch) as Spec;
  spec.process.terminal = false;
  delete spec.process.capabilities.ambient;
  spec.process.args = args;
  spec.root.readonly = false;
  return spec;
}

/** One container of one runtime in fresh temp roots: its bundle, id, cgroup, and CLI calls. */
class Subject {
  readonly roots: TempRoots;
  readonly bundle: Bundle;
  readonly id: string;
  readonly cgroupsPath: string;

  constructor(
    readonly rt: Runtime,
    spec: Spec,
    tracked: Subject[],
  ) {
    this.roots = tempRoots();
    const tag = this.roots.dir.slice(-6).replace(/\W/g, '');
    this.id = `lc-${tag}`;
    this.cgroupsPath = `/berth-lc-${tag}`;
    spec.linux = { ...(spec.linux ?? {}), cgroupsPath: this.cgroupsPath };
    this.bundle = makeBundle(this.roots.dir, spec);
    tracked.push(this);
  }

  cli(args: readonly string[], opts: Partial<RunOptions> = {}): Promise<RunResult> {
    return runRuntime(this.rt, args, { root: this.roots.state, scratch: this.roots.dir, ...opts });
  }

  /** Runs a command that must succeed. */
  async ok(args: readonly string[], opts: Partial<RunOptions> = {}): Promise<RunResult> {
    const r = await this.cli(args, opts);
    expect(r.code, `${this.rt.name} ${args.join(' ')}:\n${describeRun(this.rt, r)}`).toBe(0);
    return r;
  }

  create(): Promise<RunResult> {
    return this.ok(['create', '--bundle', this.bundle.dir, this.id]);
  }

  async state(): Promise<{ status: string; pid: number; id: string; bundle: string } | undefined> {
    const r = await this.cli(['state', this.id]);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  }

  async status(): Promise<string | undefined> {
    return (await this.state())?.status;
  }

  /** The state directory the runtime keeps for the container. */
  get stateDir(): string {
    return join(this.roots.state, this.id);
  }

  /** A file in the container's rootfs, as the host sees it. */
  rootfsPath(p: string): string {
    return join(this.bundle.rootfs, p);
  }
}

/** Whether `pid` runs (a zombie does not: pid 1 here reaps orphans only every few seconds). */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Tests of a runtime's CLI, run once per runtime in `runtimes`. */
function lifecycleSuite(title: string, runtimes: [string, () => Runtime][], body: (ctx: { subject: (spec: Spec) => Subject; scratch: () => string }) => void): void {
  describe.each(runtimes)(`%s: ${title}`, (_name, makeRuntime) => {
    useLeakCheck(runtimeLeakOptions);
    const tracked: Subject[] = [];
    // Registered after the leak check, so it runs before it: a failed test still removes its containers.
    afterEach(async () => {
      for (const s of tracked.splice(0)) await s.cli(['delete', '--force', s.id]).catch(() => undefined);
    });
    const scratch = () => tempRoots().dir;
    body({ subject: (spec) => new Subject(makeRuntime(), spec, tracked), scratch });
  });
}

const LOOP = ['sh', '-c', 'while true; do sleep 0.1; done'];

lifecycleSuite('state transitions', RUNTIMES, ({ subject, scratch }) => {
  it('create → created with the pid; start → running; kill KILL → stopped; delete → gone', async () => {
    const s = subject(lifecycleSpec(scratch(), LOOP));
    await s.create();
    const created = await s.state();
    expect(created?.status).toBe('created');
    expect(created?.id).toBe(s.id);
    expect(created?.bundle).toBe(s.bundle.dir);
    expect(created!.pid).toBeGreaterThan(0);
    expect(pidAlive(created!.pid)).toBe(true);
    expect(existsSync(s.stateDir)).toBe(true);

    await s.ok(['start', s.id]);
    expect(await waitFor(async () => (await s.status()) === 'running')).toBe(true);
    expect((await s.state())?.pid).toBe(created!.pid);

    await s.ok(['kill', s.id, 'KILL']);
    expect(await waitFor(async () => (await s.status()) === 'stopped'), `status: ${await s.status()}`).toBe(true);
    expect(await waitFor(() => !pidAlive(created!.pid))).toBe(true);

    await s.ok(['delete', s.id]);
    const gone = await s.cli(['state', s.id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/not exist|not found/i);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('start of a running container fails and leaves it running', async () => {
    const s = subject(lifecycleSpec(scratch(), LOOP));
    await s.create();
    await s.ok(['start', s.id]);
    const again = await s.cli(['start', s.id]);
    expect(again.code, describeRun(s.rt, again)).not.toBe(0);
    expect(again.stderr).toMatch(/running|not in created state|cannot start/i);
    expect(await s.status()).toBe('running');
    await s.ok(['delete', '--force', s.id]);
  });

  it('delete of a running container without --force fails and changes nothing', async () => {
    const s = subject(lifecycleSpec(scratch(), LOOP));
    await s.create();
    await s.ok(['start', s.id]);
    const pid = (await s.state())!.pid;
    const del = await s.cli(['delete', s.id]);
    expect(del.code, describeRun(s.rt, del)).not.toBe(0);
    expect(del.stderr).toMatch(/running|force/i);
    expect(await s.status()).toBe('running');
    expect(pidAlive(pid)).toBe(true);
    expect(existsSync(s.stateDir)).toBe(true);
    await s.ok(['delete', '--force', s.id]);
    expect(await waitFor(() => !pidAlive(pid))).toBe(true);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('delete --force of a paused container', async () => {
    const s = subject(lifecycleSpec(scratch(), LOOP));
    await s.create();
    await s.ok(['start', s.id]);
    const pid = (await s.state())!.pid;
    await s.ok(['pause', s.id]);
    expect(await s.status()).toBe('paused');
    await s.ok(['delete', '--force', s.id]);
    expect(await waitFor(() => !pidAlive(pid))).toBe(true);
    expect((await s.cli(['state', s.id])).code).not.toBe(0);
    expect(existsSync(s.stateDir)).toBe(false);
  });
});

lifecycleSuite('limits bite', RUNTIMES, ({ subject, scratch }) => {
  it('a memory hog over a 32 MiB limit is killed and run exits 137', async () => {
    const spec = lifecycleSpec(scratch(), ['sh', '-c', 'x=a; while true; do x=$x$x; done']);
    spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: 32 * 1024 * 1024 } };
    const s = subject(spec);
    const r = await s.cli(['run', '--bundle', s.bundle.dir, s.id], { timeoutMs: 30_000 });
    expect(r.code, describeRun(s.rt, r)).toBe(137);
  });

  it('a pids limit of 10 refuses forks', async () => {
    const spec = lifecycleSpec(scratch(), ['sh', '-c', 'for i in $(seq 20); do sleep 1 & done; wait']);
    spec.linux.resources = { ...(spec.linux.resources ?? {}), pids: { limit: 10 } };
    const s = subject(spec);
    const r = await s.cli(['run', '--bundle', s.bundle.dir, s.id]);
    expect(r.stderr, describeRun(s.rt, r)).toMatch(/can't fork/);
  });
});

lifecycleSuite('running containers', RUNTIMES, ({ subject, scratch }) => {
  it('pause freezes a counter and resume thaws it', async () => {
    const s = subject(lifecycleSpec(scratch(), ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i >/tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.02; done']));
    await s.create();
    await s.ok(['start', s.id]);
    const counter = () => (existsSync(s.rootfsPath('tmp/counter')) ? Number(readFileSync(s.rootfsPath('tmp/counter'), 'utf8')) : 0);
    expect(await waitFor(() => counter() > 3)).toBe(true);
    await s.ok(['pause', s.id]);
    expect(await s.status()).toBe('paused');
    const frozen = counter();
    await sleep(400);
    expect(counter()).toBe(frozen);
    expect(await s.status()).toBe('paused');
    await s.ok(['resume', s.id]);
    expect(await s.status()).toBe('running');
    expect(await waitFor(() => counter() > frozen + 3)).toBe(true);
    await s.ok(['delete', '--force', s.id]);
  });

  it('kill delivers a signal the container traps, and run exits with its status', async () => {
    const s = subject(lifecycleSpec(scratch(), ['sh', '-c', "trap 'echo got; exit 3' USR1; touch /tmp/ready; while true; do sleep 0.05; done"]));
    const running = s.cli(['run', '--bundle', s.bundle.dir, s.id]);
    expect(await waitFor(() => existsSync(s.rootfsPath('tmp/ready')))).toBe(true);
    await s.ok(['kill', s.id, 'USR1']);
    const r = await running;
    expect(r.code, describeRun(s.rt, r)).toBe(3);
    expect(r.stdout).toBe('got\n');
  });

  it('exec sees the same pid namespace; ps --format json and list show the container', async () => {
    const s = subject(lifecycleSpec(scratch(), ['sh', '-c', 'echo $$ >/tmp/init-pid; while true; do sleep 0.1; done']));
    await s.create();
    await s.ok(['start', s.id]);
    const state = (await s.state())!;
    expect(await waitFor(() => existsSync(s.rootfsPath('tmp/init-pid')))).toBe(true);

    const ps = await s.ok(['exec', s.id, 'ps', '-o', 'pid,args']);
    expect(ps.stdout).toMatch(/^\s*1\s+sh -c echo \$\$/m); // the init is pid 1 in exec's namespace
    const ns = await s.ok(['exec', s.id, 'sh', '-c', 'readlink /proc/1/ns/pid; readlink /proc/self/ns/pid']);
    const [initNs, execNs] = ns.stdout.trim().split('\n');
    expect(execNs).toBe(initNs);
    expect(readFileSync(s.rootfsPath('tmp/init-pid'), 'utf8').trim()).toBe('1');

    const json = await s.ok(['ps', '--format', 'json', s.id]);
    const pids = JSON.parse(json.stdout) as number[];
    expect(pids).toContain(state.pid);
    expect(pids.every((p) => Number.isInteger(p) && p > 0)).toBe(true);

    const list = await s.ok(['list']);
    const row = list.stdout.split('\n').find((l) => l.startsWith(s.id + ' '));
    expect(row, list.stdout).toBeDefined();
    expect(row!.split(/\s+/).slice(0, 3)).toEqual([s.id, String(state.pid), 'running']);
    const listJson = JSON.parse((await s.ok(['list', '--format', 'json'])).stdout) as { id: string; status: string; pid: number }[];
    expect(listJson.map((c) => [c.id, c.status, c.pid])).toEqual([[s.id, 'running', state.pid]]);
    await s.ok(['delete', '--force', s.id]);
  });

  it('hooks get the state on stdin: prestart (creating, with the pid) and poststop (stopped)', async () => {
    const dir = scratch();
    const out = join(dir, 'hooks');
    mkdirSync(out);
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${join(out, name)}.json`] });
    const spec = lifecycleSpec(dir, ['sh', '-c', 'echo hello']);
    spec.hooks = { prestart: [hook('prestart')], poststop: [hook('poststop')] };
    const s = subject(spec);
    const pidFile = join(s.roots.dir, 'pid');
    const r = await s.cli(['run', '--pid-file', pidFile, '--bundle', s.bundle.dir, s.id]);
    expect(r.code, describeRun(s.rt, r)).toBe(0);
    expect(r.stdout).toBe('hello\n');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const prestart = JSON.parse(readFileSync(join(out, 'prestart.json'), 'utf8'));
    expect(prestart).toMatchObject({ id: s.id, status: 'creating', pid, bundle: s.bundle.dir });
    expect(typeof prestart.ociVersion).toBe('string');
    const poststop = JSON.parse(readFileSync(join(out, 'poststop.json'), 'utf8'));
    expect(poststop).toMatchObject({ id: s.id, status: 'stopped', bundle: s.bundle.dir });
    expect(poststop.pid ?? 0).toBe(0); // as runc: a stopped container has no pid
  });
});

interface BadCase {
  name: string;
  /** Breaks the bundle (after the config was written). */
  spoil: (s: Subject) => void;
  /** What the message must say (runc's own wording passes it too). */
  message: RegExp;
  /** What berth-runc's message must say besides. */
  berth?: RegExp;
}

const BAD: BadCase[] = [
  {
    name: 'missing rootfs',
    spoil: (s) => {
      const spec = s.bundle.spec();
      s.bundle.writeConfig({ ...spec, root: { path: 'no-such-rootfs' } });
    },
    message: /rootfs|no-such-rootfs|no such file/i,
    berth: /no-such-rootfs/,
  },
  {
    name: 'malformed JSON',
    spoil: (s) => writeFileSync(join(s.bundle.dir, 'config.json'), '{"ociVersion": "1.0.2", "process": {'),
    message: /json|unexpected end|invalid character|EOF/i,
    berth: /config\.json/,
  },
  {
    name: 'unknown namespace type',
    spoil: (s) => {
      const spec = s.bundle.spec() as Spec;
      spec.linux.namespaces.push({ type: 'bogus' });
      s.bundle.writeConfig(spec);
    },
    message: /bogus/,
  },
];

lifecycleSuite('bad bundles', RUNTIMES, ({ subject, scratch }) => {
  for (const c of BAD) {
    it(`${c.name}: a clear error on stderr and in the json log, nothing left behind`, async () => {
      const s = subject(lifecycleSpec(scratch(), LOOP));
      c.spoil(s);
      const r = await s.cli(['create', '--bundle', s.bundle.dir, s.id], { jsonLog: true });
      expect(r.code, describeRun(s.rt, r)).not.toBe(0);
      expect(r.stderr).toMatch(c.message);
      if (c.berth && s.rt.name === 'berth-runc') expect(r.stderr).toMatch(c.berth);
      const entries = r.log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: unknown; msg: unknown; time: unknown });
      const errors = entries.filter((e) => e.level === 'error');
      expect(errors.length, r.log).toBeGreaterThan(0);
      expect(String(errors[0]!.msg)).toMatch(c.message);
      expect(typeof errors[0]!.time).toBe('string');
      expect(existsSync(s.stateDir)).toBe(false);
      expect((await s.cli(['state', s.id])).code).not.toBe(0);
      for (const h of ['pids', 'memory', 'freezer', 'devices']) expect(existsSync(join('/sys/fs/cgroup', h, s.cgroupsPath))).toBe(false);
    });
  }

  it('duplicate id: the second create fails clearly and the first container is untouched', async () => {
    const s = subject(lifecycleSpec(scratch(), LOOP));
    await s.create();
    const first = (await s.state())!;
    const r = await s.cli(['create', '--bundle', s.bundle.dir, s.id], { jsonLog: true });
    expect(r.code, describeRun(s.rt, r)).not.toBe(0);
    expect(r.stderr).toMatch(/exist/i);
    const errors = r.log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string }).filter((e) => e.level === 'error');
    expect(errors[0]?.msg).toMatch(/exist/i);
    const after = (await s.state())!;
    expect(after.status).toBe('created');
    expect(after.pid).toBe(first.pid);
    expect(pidAlive(first.pid)).toBe(true);
    await s.ok(['delete', s.id]);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('features prints JSON', async () => {
    const s = subject(lifecycleSpec(scratch(), LOOP));
    const r = await s.ok(['features']);
    const f = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(typeof f.ociVersionMin).toBe('string');
    expect(typeof f.ociVersionMax).toBe('string');
    expect(f.hooks).toEqual(expect.arrayContaining(['prestart', 'poststop']));
    expect(f.mountOptions).toEqual(expect.arrayContaining(['bind', 'rbind', 'ro', 'nosuid']));
    const linux = f.linux as { namespaces: string[] };
    expect(linux.namespaces).toEqual(expect.arrayContaining(['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup']));
  });
});

describe('berth-runc: --systemd-cgroup', () => {
  useLeakCheck(runtimeLeakOptions);

  it('is a clear error, and nothing is created', async () => {
    const dir = tempRoots().dir;
    const s = new Subject(berthRuntime(), lifecycleSpec(dir, LOOP), []);
    const r = await s.cli(['create', '--bundle', s.bundle.dir, s.id], { globals: ['--systemd-cgroup'], jsonLog: true });
    expect(r.code, describeRun(s.rt, r)).not.toBe(0);
    expect(r.stderr).toMatch(/systemd/);
    expect(r.log).toMatch(/"level":"error".*systemd/);
    expect(existsSync(s.stateDir)).toBe(false);
    for (const h of ['pids', 'memory']) expect(existsSync(join('/sys/fs/cgroup', h, s.cgroupsPath))).toBe(false);
  });
});
