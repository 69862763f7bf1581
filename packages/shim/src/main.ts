// berth-shim: one per container; its parent, its stdio and log, its exit status. See README.md.
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { BerthNative } from '@berth/runc';
import { useWallClock } from './monitor/clock.js';
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };

interface ServeOptions {
  namespace: string;
  id: string;
  bundle: string;
  socket: string;
  runtime: string;
  debug?: boolean;
}

/**
 * berth-runc's addon (and, for the library, its helper) live in its native/build: in
 * $BERTH_RUNC_NATIVE_DIR, beside an install, or in the repository. The directory found is
 * passed on to the library in the same variable.
 */
function loadNative(): BerthNative {
  let dir = process.env.BERTH_RUNC_NATIVE_DIR;
  if (!dir) {
    dir = [join(__dirname, 'native'), resolve(__dirname, '../../runc/native/build')].find((d) => existsSync(join(d, 'berth_native.node')));
    if (!dir) throw new Error(`cannot find berth_native.node beside ${__dirname} or in packages/runc/native/build (set BERTH_RUNC_NATIVE_DIR)`);
    process.env.BERTH_RUNC_NATIVE_DIR = dir;
  }
  const path = join(dir, 'berth_native.node');
  return createRequire(path)(path) as BerthNative;
}

async function serveCommand(opts: ServeOptions): Promise<void> {
  const bundle = resolve(opts.bundle);
  const socket = resolve(opts.socket);
  const dir = join(bundle, 'shim');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logFile = join(dir, 'shim.log');
  const log = (level: 'debug' | 'info' | 'error', msg: string) => {
    if (level === 'debug' && !opts.debug) return;
    try {
      appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), level, msg }) + '\n');
    } catch {
      // nowhere else to say it: stdio is /dev/null
    }
  };
  process.on('uncaughtException', (err) => log('error', `uncaught: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => log('error', `unhandled rejection: ${(err as Error)?.stack ?? err}`));
  process.on('SIGPIPE', () => {});
  // SIGTERM/SIGINT from a stray `kill` must not take the container's monitor down.
  process.on('SIGTERM', () => log('info', 'ignoring SIGTERM (use Shutdown)'));
  process.on('SIGINT', () => {});

  // The addon alone: berth-runc's library is loaded only when it is the runtime (at Create).
  const native = loadNative();
  useWallClock(() => native.realtimeNs());
  const { Reaper } = await import('./monitor/reaper.js');
  const reaper = new Reaper(native, (m) => log('error', m));
  const { EventJournal } = await import('./control/events.js');
  const journal = new EventJournal(join(dir, 'events.log'));
  const { TaskService } = await import('./control/task-service.js');
  const { serve } = await import('./control/server.js');

  let server: import('@grpc/grpc-js').Server | undefined;
  let exiting = false;
  const service = new TaskService({
    id: opts.id,
    namespace: opts.namespace,
    bundle,
    dir,
    socket,
    defaultRuntime: opts.runtime,
    version: pkg.version,
    native,
    reaper,
    journal,
    log,
    openRuntime: async (name, args) => {
      const root = join(dir, 'runtime');
      const runtimeLog = join(dir, 'runtime.log');
      if (name === 'berth-runc' || name === '') {
        if (args.length) throw new Error('runtime_args apply to a runtime binary, not to berth-runc in-process');
        const { LibraryRuntime } = await import('./control/runtime-library.js');
        return LibraryRuntime.open(root, runtimeLog, opts.debug ?? false);
      }
      const { CliRuntime } = await import('./control/runtime-cli.js');
      return new CliRuntime(name, args, root, dir, runtimeLog);
    },
    exit: (removeState) => {
      if (exiting) return;
      exiting = true;
      log('info', `exiting${removeState ? ' (task deleted)' : ''}`);
      // Let the last reply and events go out first.
      setTimeout(() => {
        server?.forceShutdown();
        rmSync(socket, { force: true });
        service.cleanup();
        journal.close();
        if (removeState) rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      }, 100);
    },
  });
  writeFileSync(join(dir, 'shim.pid'), String(process.pid));
  writeFileSync(join(dir, 'address'), `unix://${socket}`);
  server = await serve(service.handlers(), socket);
  log('info', `serving ${opts.namespace}/${opts.id} on ${socket} (pid ${process.pid}, runtime ${opts.runtime})`);
}

const program = new Command('berth-shim')
  .description('the per-container shim: the parent of one container, owner of its stdio, log file and exit status, running the OCI runtime')
  .version(pkg.version, '-v, --version')
  .helpOption('-h, --help');

program
  .command('serve')
  .description("serve one container's Task API (berth.shim.v1) on a unix socket; start it detached (setsid --fork, stdio on /dev/null)")
  .requiredOption('--namespace <ns>', "the container's namespace")
  .requiredOption('--id <id>', "the container's id")
  .requiredOption('--bundle <dir>', 'the OCI bundle; the shim keeps its files in <dir>/shim')
  .requiredOption('--socket <path>', 'the unix socket to serve on (at most 107 bytes; made 0660)')
  .option('--runtime <runtime>', '"berth-runc" (in-process) or the path of a runc-compatible binary', 'berth-runc')
  .option('--debug', 'log debug lines to <bundle>/shim/shim.log')
  .action(async (opts: ServeOptions) => {
    try {
      await serveCommand(opts);
    } catch (err) {
      const msg = `berth-shim: ${(err as Error).message}\n`;
      try {
        appendFileSync(join(resolve(opts.bundle), 'shim', 'shim.log'), JSON.stringify({ time: new Date().toISOString(), level: 'error', msg }) + '\n');
      } catch {}
      process.stderr.write(msg);
      process.exit(1);
    }
  });

program.parseAsync(process.argv);
