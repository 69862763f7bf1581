// berthd: the engine daemon. Serves berth.engine.v1 on <state>/berthd.sock and drives
// berth-containerd (found at --containerd, else started beneath its own roots, detached).
import { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };
import { errorMessage } from '@berth/api/errdefs';
import { Logger, isLevel } from './log.js';
import { startBerthd } from './server.js';

// berth_native (openat2 reads of the container's /etc/passwd, layer extraction) lives in
// packages/runc/native/build of the same install.
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

const program = new Command('berthd')
  .description('Berth\'s engine daemon: containers, images, restart policies and logs over berth.engine.v1, driving berth-containerd.')
  .version(pkg.version, '-v, --version')
  .option('--root <dir>', 'persistent data (records, images, container layers and logs)', '/var/lib/berth')
  .option('--state <dir>', 'runtime data (the socket, rootfs mounts)', '/run/berth')
  .option('--containerd <socket>', 'berth-containerd to use (default: <state>/containerd/containerd.sock, started when none answers)')
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .option('--init-path <path>', 'the init for --init (bind-mounted as /sbin/docker-init)', '/usr/bin/tini-static')
  .action(async (o: { root: string; state: string; containerd?: string; logLevel: string; initPath: string }) => {
    if (!isLevel(o.logLevel)) throw new Error(`--log-level ${o.logLevel}: one of debug, info, warn, error`);
    const log = new Logger(o.logLevel);
    const root = resolve(o.root);
    const state = resolve(o.state);
    mkdirSync(state, { recursive: true, mode: 0o711 });
    const pidFile = join(state, 'berthd.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      let alive = false;
      try {
        alive = pid > 0 && pid !== process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berthd');
      } catch { /* gone */ }
      if (alive) throw new Error(`another berthd (pid ${pid}) serves ${state}; stop it first`);
    }
    writeFileSync(pidFile, `${process.pid}\n`);
    const d = await startBerthd({ root, state, containerd: o.containerd ? resolve(o.containerd) : undefined, log, version: pkg.version, initBinary: o.initPath });
    // What start-up compiled (the reconciliation included) is kept for the next start.
    setTimeout(saveCodeCache, 2000).unref();
    const stop = (sig: string): void => {
      log.info('stopping (containers and berth-containerd keep running)', { signal: sig });
      void d.stop().finally(() => {
        rmSync(pidFile, { force: true });
        process.exit(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`berthd: ${errorMessage(e)}\n`);
  process.exit(1);
});
