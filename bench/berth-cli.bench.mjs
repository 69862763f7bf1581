// berth (CLI → berthd → berth-containerd → berth-shim → berth-runc) against Docker (docker →
// dockerd → containerd → containerd-shim-runc-v2 → runc) on this machine, through their CLIs
// (issue 5, "What must show" 5). Berth: berthd on temp roots (test-e2e/support/berthd.ts),
// busybox imported with `berth import`; Docker: a private dockerd (test-e2e/support/dockerd.ts),
// the same tar imported with `docker import`. Every container has --network none.
//
// - version: the CLI's start-up and one call, beside docker version and `node -e 0`.
// - run --rm busybox true: one foreground run, to its end (median of 5 in a row per round). Aim:
//   at most 0.7x Docker's.
// - 20 containers: 20 `run -d ... sleep` at once (until all 20 CLIs end), then one `rm -f` of the 20.
// - logs 200 MB: a container writing 200 MB of 100-byte lines to stdout (`yes | head -c`),
//   `run -d` until `wait` returns (the engine's log path keeps up, or the container waits on it);
//   then `logs` of it, until the CLI has written all 200 MB (read through a pipe, counted).
//   LOG_MB=N in the environment changes the size.
// - daemon start with 50 containers: 50 `sleep` containers run; the daemons are killed (-9:
//   berthd and berth-containerd; dockerd and its containerd) and started again:
//   from the spawn until `version` answers (Ping; polled every 100 ms, the CLI's start included),
//   and until `ps -q` lists all 50. The private dockerd is restarted with live-restore on (set in
//   its config file), or it would stop the containers.
//
// Everything runs under the machine-wide test lock (no leak-checked test meets these
// containers) and is removed after. Run: `npm run bench -- --only 'berth CLI' --runs 3 --warmup 1`
// (~5 minutes; the 200 MB rounds are the long ones).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const IMAGE = 'berth-bench/busybox:latest';
const LOG_MB = Number(process.env.LOG_MB ?? 200);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const net = ['--network', 'none'];

// ---------------------------------------------------------------------------------------------
// The e2e support code, bundled once with esbuild (vitest's hooks stubbed).
let supportPromise;
function support() {
  supportPromise ??= (async () => {
    const { build } = await import('esbuild');
    const dir = join(repo, 'build', 'bench');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `berth-cli-support-${process.pid}.mjs`);
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
          "export { startBerthd, berthBin } from './test-e2e/support/berthd.ts';",
          "export { testImageTar } from './test-e2e/support/index.ts';",
          "export { acquireLock, releaseLock } from './test-e2e/support/lock.ts';",
        ].join('\n'),
        resolveDir: repo,
        loader: 'ts',
        sourcefile: 'bench-berth-cli-support.ts',
      },
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
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
// Both engines, started once for every workload of this file and removed when the process ends.

let stacksPromise;
function stacks() {
  stacksPromise ??= (async () => {
    const s = await support();
    await s.acquireLock();
    const st = { s, berthd: undefined, dockerd: undefined, dockerProc: undefined };
    try {
      st.berthd = await s.startBerthd();
      const imp = await st.berthd.berth(['import', s.testImageTar(), IMAGE], { timeoutMs: 120_000 });
      if (imp.code !== 0) throw new Error(`berth import: ${imp.stderr}`);
      st.dockerd = await s.startDockerd({ debug: false });
      await s.importTestImage(st.dockerd, s.testImageTar(), IMAGE);
    } catch (e) {
      await teardown(st);
      throw e;
    }
    st.berthArgv = (...a) => [process.execPath, s.berthBin, '-H', st.berthd.host, ...a];
    st.dockerArgv = (...a) => [...st.dockerd.cli, ...a];
    return st;
  })();
  return stacksPromise;
}

async function teardown(st) {
  try {
    if (st.berthd) await st.berthd.stop();
    if (st.berthd) st.berthd.roots.cleanup();
  } catch (e) {
    console.error(`berth teardown: ${e}`);
  }
  try {
    if (st.dockerd) {
      const ids = (await cli(st.dockerArgv('ps', '-a', '-q'), st.dockerd.clientEnv)).stdout.split('\n').filter(Boolean);
      if (ids.length) await cli(st.dockerArgv('rm', '-f', ...ids), st.dockerd.clientEnv);
      if (st.dockerProc && st.dockerProc.exitCode === null) {
        st.dockerProc.kill('SIGTERM');
        await Promise.race([new Promise((r) => st.dockerProc.once('exit', r)), sleep(15_000)]);
      }
      const forced = await st.dockerd.stop();
      // (After the kill -9 restarts, Docker's shims of the removed containers leave sockets behind.)
      if (forced.length) console.error(`dockerd teardown forced ${forced.length} removals, e.g. ${forced[0]}`);
    }
  } catch (e) {
    console.error(`docker teardown: ${e}`);
  }
  st.s.releaseLock();
}

/** Runs argv to its end; stdout is counted (and kept unless `count`). */
function cli(argv, env, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (b) => {
      bytes += b.length;
      if (!opts.count) stdout += b;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, bytes, cmd: argv.slice(2).join(' ') }));
  });
}

async function ok(argv, env, opts) {
  const r = await cli(argv, env, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(0, 400)}`);
  return r;
}

const t0 = () => process.hrtime.bigint();
const msSince = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const medianOf = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The two contenders, as run.mjs wants them, from one function of (stack, engine). */
function contenders(fn) {
  return {
    berth: async () => fn(await stacks(), 'berth'),
    peers: [{ name: 'docker', available: () => has('dockerd') && has('docker'), run: async () => fn(await stacks(), 'docker') }],
  };
}
const engine = (st, who) =>
  who === 'berth'
    ? { argv: st.berthArgv, env: st.berthd.env }
    : { argv: st.dockerArgv, env: st.dockerd.clientEnv };

const ratioLine = (m, key, aim) => {
  const b = m.berth?.[key];
  const d = m.docker?.[key];
  if (!b || !d) return `${key}: no ratio (a contender failed or is missing)`;
  return `${key}: Berth/Docker ${(b / d).toFixed(2)}x${aim ? ` (aim <= ${aim}x: ${b / d <= aim ? 'met' : 'NOT met'})` : ''}`;
};

const selected = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? process.argv[i + 1] ?? '' : '';
})();
let remaining = 0;
/** Every workload's teardown calls this; the last one of this file removes both engines. */
async function release() {
  if (--remaining > 0 || !stacksPromise) return;
  const st = await stacksPromise.catch(() => undefined);
  stacksPromise = undefined;
  if (st) await teardown(st);
}

export const workloads = [
  {
    // The CLI's own start-up and one call (Ping-like): `version` against the running daemon,
    // beside `docker version` and a bare `node -e 0` (the floor any Node CLI starts from).
    name: 'berth CLI version',
    unit: 'ms',
    ...contenders(async (st, who) => {
      const e = engine(st, who);
      const t = t0();
      await ok(e.argv('version'), e.env);
      return { value: msSince(t) };
    }),
    peers: [
      { name: 'docker', available: () => has('dockerd') && has('docker'), run: async () => { const e = engine(await stacks(), 'docker'); const t = t0(); await ok(e.argv('version'), e.env); return { value: msSince(t) }; } },
      { name: 'node -e 0', available: () => true, run: async () => { const t = t0(); await ok([process.execPath, '-e', '0']); return { value: msSince(t) }; } },
    ],
    summary: (m) => [ratioLine(m, 'value').replace(/^value: /, ''), `Berth/node -e 0 ${m.berth?.value && m['node -e 0']?.value ? (m.berth.value / m['node -e 0'].value).toFixed(2) : '?'}x`].join('; '),
  },
  {
    name: 'berth CLI run --rm true',
    unit: 'ms',
    ...contenders(async (st, who) => {
      const e = engine(st, who);
      const xs = [];
      for (let i = 0; i < 5; i++) {
        const t = t0();
        await ok(e.argv('run', '--rm', ...net, IMAGE, 'true'), e.env);
        xs.push(msSince(t));
      }
      return { value: medianOf(xs) };
    }),
    summary: (m) => ratioLine(m, 'value', 0.7).replace(/^value: /, ''),
  },
  {
    name: 'berth CLI 20 containers',
    unit: 'ms',
    ...contenders(async (st, who) => {
      const e = engine(st, who);
      let t = t0();
      const ids = (await Promise.all(Array.from({ length: 20 }, () => ok(e.argv('run', '-d', ...net, IMAGE, 'sleep', '1000'), e.env)))).map((r) => r.stdout.trim());
      const run = msSince(t);
      t = t0();
      await ok(e.argv('rm', '-f', ...ids), e.env);
      return { 'run -d x20 (parallel)': run, 'rm -f of 20': msSince(t) };
    }),
    summary: (m) => [ratioLine(m, 'run -d x20 (parallel)'), ratioLine(m, 'rm -f of 20')].join('; '),
  },
  {
    name: `berth CLI logs ${LOG_MB} MB`,
    unit: 'ms',
    ...contenders(async (st, who) => {
      const e = engine(st, who);
      const bytes = LOG_MB * 1_000_000;
      // 100-byte lines: 99 characters and a newline.
      const script = `yes ${'x'.repeat(99)} | head -c ${bytes}`;
      let t = t0();
      const id = (await ok(e.argv('run', '-d', ...net, IMAGE, 'sh', '-c', script), e.env)).stdout.trim();
      const code = (await ok(e.argv('wait', id), e.env)).stdout.trim();
      const write = msSince(t);
      if (code !== '0') throw new Error(`${who}: the writer exited ${code}`);
      t = t0();
      const r = await ok(e.argv('logs', id), e.env, { count: true });
      const read = msSince(t);
      await ok(e.argv('rm', '-f', id), e.env);
      if (r.bytes !== bytes) throw new Error(`${who} logs gave ${r.bytes} bytes, not ${bytes}`);
      return { 'write (run -d → exit)': write, 'logs (read all)': read };
    }),
    summary: (m) => [ratioLine(m, 'write (run -d → exit)'), ratioLine(m, 'logs (read all)')].join('; '),
  },
  {
    name: 'berth CLI daemon start, 50 running',
    unit: 'ms',
    async setup(ctx) {
      const st = await stacks();
      for (const who of ['berth', 'docker']) {
        const e = engine(st, who);
        for (let i = 0; i < 50; i += 10) {
          await Promise.all(Array.from({ length: 10 }, () => ok(e.argv('run', '-d', ...net, IMAGE, 'sleep', '100000'), e.env)));
        }
      }
      // dockerd keeps its containers across its own restart only with live-restore.
      writeFileSync(join(st.dockerd.dir, 'daemon.json'), '{ "live-restore": true }\n');
      ctx.dockerArgs = readFileSync(`/proc/${readFileSync(join(st.dockerd.dir, 'docker.pid'), 'utf8').trim()}/cmdline`, 'utf8').split('\0').filter(Boolean);
    },
    async teardown() {
      const st = await stacks();
      for (const who of ['berth', 'docker']) {
        const e = engine(st, who);
        const ids = (await cli(e.argv('ps', '-a', '-q'), e.env)).stdout.split('\n').filter(Boolean);
        if (ids.length) await cli(e.argv('rm', '-f', ...ids), e.env);
      }
      await release();
    },
    berth: async (ctx) => {
      const st = await stacks();
      const cpid = st.berthd.containerdPid();
      process.kill(cpid, 'SIGKILL');
      await st.berthd.kill('SIGKILL');
      while (existsProc(cpid)) await sleep(20);
      const t = t0();
      st.berthd = await st.s.startBerthd({ roots: st.berthd.roots }); // until `berth version` answers
      const ping = msSince(t);
      await untilListed(st.berthArgv, st.berthd.env, 50);
      return { 'to Ping': ping, 'to ps listing 50': msSince(t) };
    },
    peers: [
      {
        name: 'docker',
        available: () => has('dockerd') && has('docker'),
        run: async (ctx) => {
          const st = await stacks();
          const pidFile = join(st.dockerd.dir, 'docker.pid');
          const pid = Number(readFileSync(pidFile, 'utf8').trim());
          // kill -9 of both daemons, as Berth's: dockerd and the containerd it started.
          // (by its pid file: dockerd keeps it in <exec-root>/containerd/)
          const containerd = [...childrenOf(pid, 'containerd'), Number(readFileSync(join(st.dockerd.execRoot, 'containerd', 'containerd.pid'), 'utf8').trim())].filter((p, i, a) => p > 0 && a.indexOf(p) === i);
          process.kill(pid, 'SIGKILL');
          for (const c of containerd) process.kill(c, 'SIGKILL');
          while (existsProc(pid) || containerd.some(existsProc)) await sleep(20);
          rmSync(pidFile, { force: true });
          // A killed containerd may stay a zombie a while (kill(pid, 0) still answers): dockerd
          // would wait for it. Its pid file goes too.
          rmSync(join(st.dockerd.execRoot, 'containerd', 'containerd.pid'), { force: true });
          const t = t0();
          const logFd = openSync(st.dockerd.logFile, 'a');
          const proc = spawn(ctx.dockerArgs[0], ctx.dockerArgs.slice(1), { stdio: ['ignore', logFd, logFd], detached: true, cwd: st.dockerd.dir });
          closeSync(logFd);
          proc.unref();
          st.dockerProc = proc;
          for (;;) {
            if (proc.exitCode !== null) throw new Error(`dockerd exited ${proc.exitCode}: ${st.dockerd.logTail(25, /level=(error|fatal|warn)|containerd/)}`);
            const r = await cli(st.dockerArgv('version', '--format', '{{.Server.Version}}'), st.dockerd.clientEnv);
            if (r.code === 0 && r.stdout.trim()) break;
            if (msSince(t) > 60_000) throw new Error('dockerd did not answer in 60 s');
            await sleep(100);
          }
          const ping = msSince(t);
          await untilListed(st.dockerArgv, st.dockerd.clientEnv, 50);
          return { 'to Ping': ping, 'to ps listing 50': msSince(t) };
        },
      },
    ],
    summary: (m) => [ratioLine(m, 'to Ping'), ratioLine(m, 'to ps listing 50')].join('; '),
  },
];

for (const w of workloads) {
  if (!w.name.includes(selected)) continue;
  remaining++;
  w.teardown ??= release;
}

function childrenOf(ppid, comm) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === ppid && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

function existsProc(pid) {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}

async function untilListed(argv, env, n) {
  const t = t0();
  for (;;) {
    const r = await cli(argv('ps', '-q'), env);
    if (r.code === 0 && r.stdout.split('\n').filter(Boolean).length >= n) return;
    if (msSince(t) > 60_000) throw new Error(`ps did not list ${n} containers in 60 s: ${r.stdout.split('\n').length - 1} ${r.stderr}`);
    await sleep(50);
  }
}
