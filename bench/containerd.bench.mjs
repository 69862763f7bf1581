// berth-containerd + berth-shim against Docker's containerd + containerd-shim-runc-v2 (issue 3,
// "What must show" 5), on this machine, in one run:
//
// - idle ×1, idle ×50: the memory each idle `sleep` container adds, in MiB: the PSS (`Pss:` of
//   /proc/PID/smaps_rollup) of its shim, the growth of the daemon's PSS since before the first
//   container (berth-containerd; Docker: its containerd), and the two together. Berth's
//   containers are made through berth-containerd's API on berth-runc (in the shim's process);
//   Docker's with `docker run -d --runtime runc` on a private dockerd (test-e2e/support/dockerd.ts)
//   from the busybox test image (`docker import`). The dockerd's own growth is in the summary.
//   One container is made and removed before the baseline (first-use costs are not per
//   container), and the daemons are left idle for 12 s before the baseline and before the
//   figures (a Node heap shrinks only then). Each run reads the figures again (the containers
//   stay idle); the median is printed. At ×1 the daemon's growth is below the noise of its
//   garbage collector (a Node daemon's idle PSS wanders by ±2 MiB); ×50 is the figure to read.
// - Tasks.Create with a spare shim claimed against a shim started cold (--shim-spares 0), both
//   berth-containerd, interleaved.
// - create → started task: berth's Containers.Create + Tasks.Create + Tasks.Start through its
//   gRPC API, timed in this process; and `berth-ctr run -d`. Docker's side is Debian's `ctr run
//   -d --runtime io.containerd.runc.v2 --rootfs` against the private dockerd's containerd (a CLI
//   in both rows: ctr is a Go binary, berth-ctr a Node one; `ctr version`, ctr's start and one
//   round trip, is given for scale).
//
// Everything runs under the machine-wide test lock (test-e2e/support/lock.ts), so no leak-checked
// test of another runner meets these containers, and is removed after: containers, shims,
// daemons, cgroups, mounts, temp roots. Whatever is left is named in the summary.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const IMAGE = 'berth-test/busybox:latest';
const MiB = 1024; // smaps_rollup counts kB (KiB)
const SETTLE_MS = 12_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

// ---------------------------------------------------------------------------------------------
// The e2e support code (TypeScript) for this process: bundled once with esbuild, vitest's hooks
// stubbed (tempRoots() then leaves removal to its caller, as outside a test it does).
let supportPromise;
function support() {
  supportPromise ??= (async () => {
    const { build } = await import('esbuild');
    const dir = join(repo, 'build', 'bench');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `containerd-support-${process.pid}.mjs`);
    const vitestStub = {
      name: 'vitest-stub',
      setup(b) {
        b.onResolve({ filter: /^vitest$/ }, () => ({ path: 'vitest', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          contents: 'const no = () => { throw new Error("not inside a test"); };\nexport const onTestFinished = no, afterEach = no, beforeEach = no;\n',
          loader: 'js',
        }));
      },
    };
    await build({
      stdin: {
        contents: [
          "export { startDockerd, importTestImage } from './test-e2e/support/dockerd.ts';",
          "export { Containerd, spec, prerequisites, ctrBin } from './test-e2e/030-containerd-support.ts';",
          "export { tempRoots, testRootfs, testImageTar, snapshotLeaks, findLeaks, formatLeaks } from './test-e2e/support/index.ts';",
          "export { acquireLock, releaseLock } from './test-e2e/support/lock.ts';",
        ].join('\n'),
        resolveDir: repo,
        loader: 'ts',
        sourcefile: 'bench-containerd-support.ts',
      },
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      // CommonJS dependencies (grpc-js) call require(): give the ES module one.
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
      external: ['*.node'],
      plugins: [vitestStub],
      logLevel: 'warning',
    });
    try {
      return await import(pathToFileURL(out).href);
    } finally {
      rmSync(out, { force: true });
    }
  })();
  return supportPromise;
}

// ---------------------------------------------------------------------------------------------
// Processes and their memory.

/** PSS of a process in KiB (the `Pss:` line of smaps_rollup: every mapping's share). */
function pssKb(pid) {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  if (!m) throw new Error(`no Pss in /proc/${pid}/smaps_rollup`);
  return Number(m[1]);
}

/** Private (unshared) memory of a process in KiB: Private_Clean + Private_Dirty (its USS). */
function privateKb(pid) {
  const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return ['Private_Clean', 'Private_Dirty'].reduce((a, k) => a + Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN), 0);
}

function procs() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        pid: Number(name),
        ppid: Number(rest[1]),
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        argv: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean),
      });
    } catch {
      // gone
    }
  }
  return out;
}

/** Median of a few readings of `pids`' summed PSS, in KiB. */
async function settledPss(pids, readings = 5) {
  const xs = [];
  for (let i = 0; i < readings; i++) {
    xs.push(pids.reduce((s, p) => s + pssKb(p), 0));
    await sleep(200);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

/** The private dockerd's pid and its containerd's. */
function dockerDaemons(d) {
  const dockerd = Number(readFileSync(join(d.dir, 'docker.pid'), 'utf8').trim());
  const containerd = procs().find((p) => p.ppid === dockerd && p.comm === 'containerd');
  if (!containerd) throw new Error(`no containerd child of dockerd ${dockerd}:\n${d.logTail(20)}`);
  return { dockerd, containerd: containerd.pid };
}

/** containerd-shim-runc-v2 processes serving the containerd at `address`. */
function dockerShims(address) {
  return procs()
    .filter((p) => (p.argv[0] ?? '').endsWith('containerd-shim-runc-v2') && p.argv.includes(address))
    .map((p) => p.pid);
}

// ---------------------------------------------------------------------------------------------
// The two stacks, made and removed.

let seq = 0;
const uid = (who) => `${who}-${process.pid}-${seq++}`;

async function startBerth(s) {
  s.prerequisites();
  const d = new s.Containerd(s.tempRoots());
  await d.start();
  return d;
}

/** Containers.Create + Tasks.Create + Tasks.Start of `sleep` on berth-runc; returns the id. */
async function berthSleep(s, d, id) {
  await d.call('containers', 'create', { container: { id, runtime: { name: 'berth-runc' }, specJson: s.spec(id, ['sleep', '100000']), rootfs: s.testRootfs() } });
  await d.call('tasks', 'create', { containerId: id });
  await d.call('tasks', 'start', { containerId: id });
  return id;
}

async function stopBerth(d) {
  if (!d) return;
  try {
    const list = await d.call('tasks', 'list', {});
    for (const t of list.tasks) await d.call('tasks', 'delete', { containerId: t.containerId, force: true }).catch(() => undefined);
    const cs = await d.call('containers', 'list', {});
    for (const c of cs.containers) await d.call('containers', 'delete', { id: c.id }).catch(() => undefined);
  } finally {
    await d.stop();
    d.roots.cleanup();
  }
}

async function startDocker(s) {
  const d = await s.startDockerd({ debug: false });
  try {
    await s.importTestImage(d, s.testImageTar(), IMAGE);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

async function stopDocker(d, ctrAddress) {
  if (!d) return [];
  if (ctrAddress) {
    // ctr's containers, in their own namespace: dockerd does not know of them.
    const ctr = (...a) => spawnSync('ctr', ['--address', ctrAddress, '-n', 'berth-bench', ...a], { encoding: 'utf8' });
    for (const id of ctr('containers', 'ls', '-q').stdout.split('\n').filter(Boolean)) {
      ctr('tasks', 'kill', '-s', 'KILL', id);
      // Deleted once it has exited (a task that never was is an error too: then go on).
      for (let i = 0; i < 50 && ctr('tasks', 'delete', id).status !== 0 && ctr('tasks', 'ls', '-q').stdout.split('\n').includes(id); i++) await sleep(100);
      ctr('containers', 'delete', id);
    }
    ctr('namespaces', 'remove', 'berth-bench');
  }
  const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await d.docker(['rm', '-f', ...ids], { timeoutMs: 120_000 });
  return d.stop();
}

/** Holds the machine-wide test lock and snapshots the host, for the teardown's leak report. */
async function begin(s, state) {
  await s.acquireLock();
  state.locked = true;
  state.before = s.snapshotLeaks();
  state.hostBefore = HOST_PATHS.filter((p) => existsSync(p));
}

/** Host-wide directories containerd and Docker make by default, outside any root given to them. */
const HOST_PATHS = ['/run/containerd', '/run/docker', '/run/containerd/runc', '/run/containerd/fifo'];

async function end(s, state) {
  try {
    if (state.before) {
      // Shims and runtimes finish their own cleanup a moment after the daemons answer.
      let leaks;
      for (let i = 0; i < 50; i++) {
        leaks = s.findLeaks(state.before);
        if (!leaks.mounts.length && !leaks.cgroups.length && !leaks.procs.length) break;
        await sleep(100);
      }
      leaks.fds = []; // this process keeps its own sockets and pipes; not the code under test's
      const host = HOST_PATHS.filter((p) => existsSync(p) && !state.hostBefore.includes(p));
      const text = [s.formatLeaks(leaks), host.length ? `host paths:\n  ${host.join('\n  ')}` : ''].filter(Boolean).join('\n');
      if (text) {
        state.left = text.replace(/\n/g, '; ');
        process.stderr.write(`\nbench: left behind:\n${text}\n`);
      }
    }
  } finally {
    if (state.locked) s.releaseLock();
    state.locked = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Workloads.

/** The rows of an idle workload, from KiB in all to MiB per container. */
const figures = (shims, daemon, count, shimsPrivate) => ({
  'shim PSS per container': shims / count / MiB,
  'shim private (USS) per container': shimsPrivate / count / MiB,
  'daemon PSS growth per container': daemon / count / MiB,
  'shim + daemon per container': (shims + daemon) / count / MiB,
});

const dockerAvailable = () => has('dockerd') && has('containerd-shim-runc-v2');

function idleMemory(count) {
  const state = {};
  return {
    name: `idle sleep ×${count}:`,
    unit: 'MiB',
    async setup() {
      const s = await support();
      await begin(s, state);
      // Berth: berth-containerd alone, then `count` containers through its API.
      state.berth = await startBerth(s);
      // One container made and removed first, so the baseline holds what the first one loads
      // once (code, connections, database pages) and the growth is what each one keeps.
      const warm = await berthSleep(s, state.berth, uid('warm'));
      await state.berth.call('tasks', 'delete', { containerId: warm, force: true });
      await state.berth.call('containers', 'delete', { id: warm });
      // V8's memory reducer shrinks an idle Node heap some 3 to 10 s after the last work: the
      // baseline is read after that, as are the figures.
      await sleep(SETTLE_MS);
      const bPid = state.berth.proc.pid;
      state.berthBase = await settledPss([bPid]);
      for (let i = 0; i < count; i++) await berthSleep(s, state.berth, uid('idle'));
      const tasks = (await state.berth.call('tasks', 'list', {})).tasks;
      state.berthShims = [];
      for (const t of tasks) {
        const g = await state.berth.call('tasks', 'get', { containerId: t.containerId });
        const pid = Number(g.process.shimPid);
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-shim')) throw new Error(`pid ${pid} is not ${t.containerId}'s shim`);
        state.berthShims.push(pid);
      }
      if (state.berthShims.length !== count) throw new Error(`berth: ${state.berthShims.length} shims for ${count} containers`);
      // Docker: a private dockerd, then `count` containers with docker run -d.
      if (dockerAvailable()) {
        state.docker = await startDocker(s);
        state.dockerDaemons = dockerDaemons(state.docker);
        await state.docker.dockerOk(['run', '--rm', '--runtime', 'runc', '--network', 'none', IMAGE, 'true'], { timeoutMs: 60_000 });
        await sleep(SETTLE_MS);
        state.dockerBase = {
          containerd: await settledPss([state.dockerDaemons.containerd]),
          dockerd: await settledPss([state.dockerDaemons.dockerd]),
        };
        for (let i = 0; i < count; i++) {
          await state.docker.dockerOk(['run', '-d', '--runtime', 'runc', '--network', 'none', IMAGE, 'sleep', '100000'], { timeoutMs: 60_000 });
        }
        state.dockerAddress = join(state.docker.execRoot, 'containerd', 'containerd.sock');
        state.dockerShims = dockerShims(state.dockerAddress);
        if (state.dockerShims.length !== count) throw new Error(`docker: ${state.dockerShims.length} containerd-shim-runc-v2 for ${count} containers`);
      }
      await sleep(SETTLE_MS); // idle
    },
    async teardown() {
      const s = await support();
      try {
        await stopBerth(state.berth).catch((e) => process.stderr.write(`\nbench: berth teardown: ${e.message}\n`));
        const forced = await stopDocker(state.docker).catch((e) => [`docker teardown: ${e.message}`]);
        if (forced.length) process.stderr.write(`\nbench: docker teardown forced: ${forced.join('; ')}\n`);
      } finally {
        await end(s, state);
      }
    },
    berth: async () => {
      const shims = state.berthShims.reduce((a, p) => a + pssKb(p), 0);
      const daemon = pssKb(state.berth.proc.pid) - state.berthBase;
      return figures(shims, daemon, count, state.berthShims.reduce((a, p) => a + privateKb(p), 0));
    },
    peers: [
      {
        name: 'Docker (containerd-shim-runc-v2, containerd)',
        available: dockerAvailable,
        run: async () => {
          const shims = state.dockerShims.reduce((a, p) => a + pssKb(p), 0);
          const daemon = pssKb(state.dockerDaemons.containerd) - state.dockerBase.containerd;
          state.dockerdGrowth = pssKb(state.dockerDaemons.dockerd) - state.dockerBase.dockerd;
          return figures(shims, daemon, count, state.dockerShims.reduce((a, p) => a + privateKb(p), 0));
        },
      },
    ],
    summary: () => {
      const parts = [`berth-containerd ${(state.berthBase / MiB).toFixed(1)} MiB PSS before the first container`];
      if (state.dockerBase) {
        parts.push(`Docker's containerd ${(state.dockerBase.containerd / MiB).toFixed(1)} MiB and dockerd ${(state.dockerBase.dockerd / MiB).toFixed(1)} MiB before`);
        if (state.dockerdGrowth !== undefined) parts.push(`dockerd (not in the rows) grew ${(state.dockerdGrowth / count / MiB).toFixed(2)} MiB per container`);
      }
      if (state.left) parts.push(`LEFT BEHIND: ${state.left}`);
      return parts.join('; ');
    },
  };
}

/** Both stacks up, for timing: berth-containerd, and the private dockerd whose containerd ctr drives. */
function createToStart(name, berthRun, extraPeers = []) {
  const state = {};
  const ctrRun = (ctx) => {
    const id = uid('ctr');
    return [
      'ctr', '--address', state.dockerAddress, '-n', 'berth-bench', 'run', '-d', '--read-only',
      // Everything under the private dockerd's roots and cgroup parent (its teardown's reach):
      // the cgroup, runc's state (else /run/containerd/runc), the output (else FIFOs in /run).
      '--runtime', 'io.containerd.runc.v2', '--cgroup', `/${state.docker.cgroupParent}/${id}`,
      '--runc-root', join(state.docker.dir, 'ctr-runc'), '--log-uri', `file://${join(state.docker.dir, `${id}.log`)}`,
      // No image config, so no PATH in the process' environment: the command by its path.
      '--rootfs', state.rootfs, id, '/bin/sleep', '100000',
    ];
  };
  return {
    name,
    async setup() {
      const s = await support();
      await begin(s, state);
      state.s = s;
      state.rootfs = s.testRootfs();
      state.berth = await startBerth(s);
      if (dockerAvailable() && has('ctr')) {
        state.docker = await startDocker(s);
        state.dockerAddress = join(state.docker.execRoot, 'containerd', 'containerd.sock');
      }
    },
    async teardown() {
      const s = await support();
      try {
        await stopBerth(state.berth).catch((e) => process.stderr.write(`\nbench: berth teardown: ${e.message}\n`));
        const forced = await stopDocker(state.docker, state.dockerAddress).catch((e) => [`docker teardown: ${e.message}`]);
        if (forced.length) process.stderr.write(`\nbench: docker teardown forced: ${forced.join('; ')}\n`);
      } finally {
        await end(s, state);
      }
    },
    berth: (ctx) => berthRun(state, ctx),
    peers: [
      { name: 'ctr run -d (containerd 1.6, runc v2 shim)', available: () => dockerAvailable() && has('ctr'), run: ctrRun },
      ...extraPeers.map((p) => ({ ...p, run: (ctx) => p.run(state, ctx) })),
    ],
    summary: () => (state.left ? `LEFT BEHIND: ${state.left}` : undefined),
  };
}

/**
 * Tasks.Create alone (the shim's start, Connect and the runtime's create), timed in this process:
 * on a berth-containerd with a spare shim ready (its default, --shim-spares 1) against one that
 * starts each shim cold (--shim-spares 0). Untimed around it: the container record, waiting for
 * the spare (it is replaced in the background after each claim), and the task's removal.
 */
function spareVsCold() {
  const state = {};
  const createOnce = async (d, spare) => {
    const s = state.s;
    const id = uid(spare ? 'spare' : 'cold');
    await d.call('containers', 'create', { container: { id, runtime: { name: 'berth-runc' }, specJson: s.spec(id, ['sleep', '100000']), rootfs: state.rootfs } });
    const dir = join(d.roots.state, 'spare');
    for (let i = 0; spare && i < 500 && !(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.sock'))); i++) await sleep(10);
    const start = process.hrtime.bigint();
    await d.call('tasks', 'create', { containerId: id });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    await d.call('tasks', 'delete', { containerId: id, force: true });
    await d.call('containers', 'delete', { id });
    return { value: ms };
  };
  return {
    name: 'Tasks.Create (berth: a spare shim claimed)',
    unit: 'ms',
    async setup() {
      const s = await support();
      await begin(s, state);
      state.s = s;
      state.rootfs = s.testRootfs();
      state.warm = await startBerth(s);
      process.env.BERTH_SHIM_SPARES = '0';
      try {
        state.cold = await startBerth(s);
      } finally {
        delete process.env.BERTH_SHIM_SPARES;
      }
    },
    async teardown() {
      const s = await support();
      try {
        for (const d of [state.warm, state.cold]) await stopBerth(d).catch((e) => process.stderr.write(`\nbench: berth teardown: ${e.message}\n`));
      } finally {
        await end(s, state);
      }
    },
    berth: () => createOnce(state.warm, true),
    peers: [{ name: 'berth, shim started cold (--shim-spares 0)', available: () => true, run: () => createOnce(state.cold, false) }],
    summary: () => (state.left ? `LEFT BEHIND: ${state.left}` : undefined),
  };
}

export const workloads = [
  idleMemory(1),
  idleMemory(50),
  createToStart('create → started task (berth: Tasks API)', (state) => berthSleep(state.s, state.berth, uid('api')), [
    {
      name: 'ctr version (ctr\'s own start + a round trip)',
      available: () => dockerAvailable() && has('ctr'),
      run: (state) => ['ctr', '--address', state.dockerAddress, 'version'],
    },
  ]),
  createToStart('create → started task (berth: berth-ctr run -d)', (state) => [
    process.execPath, state.s.ctrBin, '--address', state.berth.socket, 'run', '-d', '--rootfs', state.rootfs, uid('cli'), 'sleep', '100000',
  ]),
  spareVsCold(),
];
