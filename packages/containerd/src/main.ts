// berth-containerd: containers, tasks, events and namespaces over gRPC; one berth-shim per task,
// detached, re-found after a restart. Usable alone (berth-ctr is its client) or under berthd.
import { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };
import { errorMessage } from '@berth/api/errdefs';
import { Logger, isLevel } from './log.js';
import { ProcessShimLauncher } from './runtime/launcher.js';
import { startDaemon } from './server.js';

/** The shim bundle of the same install: packages/shim/dist/berth-shim.cjs beside packages/containerd/dist/. */
function defaultShim(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'shim', 'dist', 'berth-shim.cjs');
}

function defaultBerthRunc(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'runc', 'dist', 'berth-runc.cjs');
}

// berth_native (layer extraction resolving paths with openat2) lives in packages/runc/native/build
// of the same install (or beside the bundle, in native/).
if (!process.env.BERTH_RUNC_NATIVE_DIR) {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [join(here, 'native'), resolve(here, '..', '..', 'runc', 'native', 'build')]) {
    if (existsSync(join(c, 'berth_native.node'))) {
      process.env.BERTH_RUNC_NATIVE_DIR = c;
      break;
    }
  }
}

/** Has the launcher (tools/bundle.mjs --code-cache=ready) write its V8 code cache now, if it wants one. */
function saveCodeCache(): void {
  const save = (globalThis as Record<symbol, unknown>)[Symbol.for('berth.codeCache.save')];
  if (typeof save === 'function') save();
}

const program = new Command('berth-containerd')
  .description('Berth\'s lifecycle daemon: containers, tasks, events and namespaces; one berth-shim per task.')
  .version(pkg.version, '-v, --version')
  .option('--root <dir>', 'persistent data (the metadata database)', '/var/lib/berth/containerd')
  .option('--state <dir>', 'runtime data (bundles, shim sockets)', '/run/berth/containerd')
  .option('--address <path>', 'the socket to serve on (default: <state>/containerd.sock)')
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .option('--shim <path>', 'the berth-shim bundle to start per task', process.env.BERTH_SHIM ?? defaultShim())
  .option('--shim-debug', 'start shims with --debug')
  .option('--shim-spares <n>', 'idle shims kept started for the next task creates (0: start each cold)', process.env.BERTH_SHIM_SPARES ?? '1')
  .action(async (o: { root: string; state: string; address?: string; logLevel: string; shim: string; shimDebug?: boolean; shimSpares: string }) => {
    if (!isLevel(o.logLevel)) throw new Error(`--log-level ${o.logLevel}: one of debug, info, warn, error`);
    const shimSpares = Number(o.shimSpares);
    if (!Number.isInteger(shimSpares) || shimSpares < 0 || shimSpares > 64) throw new Error(`--shim-spares ${o.shimSpares}: a whole number from 0 to 64`);
    const log = new Logger(o.logLevel);
    const root = resolve(o.root);
    const state = resolve(o.state);
    const address = resolve(o.address ?? join(state, 'containerd.sock'));
    const pidFile = join(state, 'containerd.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      let alive = false;
      try {
        alive = pid > 0 && pid !== process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-containerd');
      } catch { /* gone */ }
      if (alive) throw new Error(`another berth-containerd (pid ${pid}) serves ${state}; stop it first`);
    }
    if (!existsSync(o.shim)) log.warn('berth-shim not found; tasks cannot start', { shim: o.shim });
    const daemon = await startDaemon({ root, state, address, launcher: new ProcessShimLauncher(o.shim, process.env.BERTH_RUNC ?? defaultBerthRunc()), log, version: pkg.version, shimDebug: o.shimDebug, shimSpares });
    writeFileSync(pidFile, `${process.pid}\n`);
    // What start-up compiled (the re-finding of shims included) is kept for the next start.
    setTimeout(saveCodeCache, 2000).unref();
    const stop = (sig: string): void => {
      log.info('stopping (shims keep running; spare shims are retired)', { signal: sig });
      void daemon.stop().finally(() => {
        rmSync(pidFile, { force: true });
        process.exit(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`berth-containerd: ${errorMessage(e)}\n`);
  process.exit(1);
});
