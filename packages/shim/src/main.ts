// berth-shim: one per container; its parent, its stdio and log, its exit status. See README.md.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** The shim's own log (`<bundle>/shim/shim.log`), once it knows its container; nowhere before. */
const logTo: { file?: string; debug: boolean } = { debug: false };
function log(level: 'debug' | 'info' | 'error', msg: string): void {
  if (!logTo.file || (level === 'debug' && !logTo.debug)) return;
  try {
    appendFileSync(logTo.file, JSON.stringify({ time: new Date().toISOString(), level, msg }) + '\n');
  } catch {
    // nowhere else to say it: stdio is /dev/null
  }
}

/** A spare ends on SIGTERM; a container's shim never does (contract 16). */
let onSigterm = (): void => log('info', 'ignoring SIGTERM (use Shutdown)');

/** What a shim loads before it knows its container: the addon, the subreaper, the modules. */
async function prepare() {
  process.on('uncaughtException', (err) => log('error', `uncaught: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => log('error', `unhandled rejection: ${(err as Error)?.stack ?? err}`));
  process.on('SIGPIPE', () => {});
  // SIGTERM/SIGINT from a stray `kill` must not take the container's monitor down.
  process.on('SIGTERM', () => onSigterm());
  process.on('SIGINT', () => {});
  // The addon alone: berth-runc's library is loaded only when it is the runtime (at Create).
  const native = loadNative();
  useWallClock(() => native.realtimeNs());
  const { Reaper } = await import('./monitor/reaper.js');
  const reaper = new Reaper(native, (m) => log('error', m));
  const { EventJournal } = await import('./control/events.js');
  const { TaskService, PROTOCOL } = await import('./control/task-service.js');
  const { serve } = await import('./control/server.js');
  return { native, reaper, EventJournal, TaskService, PROTOCOL, serve };
}

type Prepared = Awaited<ReturnType<typeof prepare>>;

/** Becomes the shim of one container: its files in `<bundle>/shim`, the Task API on its socket. */
async function become(opts: ServeOptions, p: Prepared): Promise<void> {
  const bundle = resolve(opts.bundle);
  const socket = resolve(opts.socket);
  const dir = join(bundle, 'shim');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A shim's working directory is its bundle (the launcher starts it there; a claimed spare
  // moves): berth-containerd tells a claimed spare from a reused pid by it.
  process.chdir(bundle);
  logTo.file = join(dir, 'shim.log');
  logTo.debug = opts.debug ?? false;
  const journal = new p.EventJournal(join(dir, 'events.log'));
  let server: import('@grpc/grpc-js').Server | undefined;
  let exiting = false;
  let removeAll = false;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    server?.forceShutdown();
    rmSync(socket, { force: true });
    service.cleanup();
    journal.close();
    if (removeAll) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  const service = new p.TaskService({
    id: opts.id,
    namespace: opts.namespace,
    bundle,
    dir,
    socket,
    defaultRuntime: opts.runtime,
    version: pkg.version,
    native: p.native,
    reaper: p.reaper,
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
    exit: (removeState, lastCall) => {
      removeAll ||= removeState;
      if (lastCall) {
        // Shutdown is the last call berth-containerd makes, and it hangs up right after the
        // answer: a graceful shutdown ends then. Earlier (after Delete) it must still be served.
        setImmediate(() => server?.tryShutdown(finish));
      }
      if (exiting) return;
      exiting = true;
      log('info', `exiting${removeState ? ' (task deleted)' : ''}`);
      // The most a last reply and events get to go out.
      setTimeout(finish, 100);
    },
  });
  writeFileSync(join(dir, 'shim.pid'), String(process.pid));
  writeFileSync(join(dir, 'address'), `unix://${socket}`);
  server = await p.serve(service.handlers(), socket);
  log('info', `serving ${opts.namespace}/${opts.id} on ${socket} (pid ${process.pid}, runtime ${opts.runtime})`);
}

async function serveCommand(opts: ServeOptions): Promise<void> {
  // Errors before the container is known still go to its shim.log.
  logTo.file = join(resolve(opts.bundle), 'shim', 'shim.log');
  mkdirSync(dirname(logTo.file), { recursive: true, mode: 0o700 });
  await become(opts, await prepare());
}

/** A process's start time in clock ticks since boot (with the pid, it names the process), or 0. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? '' : (f[19] ?? '');
  } catch {
    return '';
  }
}

/** How often an unclaimed spare looks whether it is still wanted. */
const SPARE_WATCH_MS = 1000;

async function spareCommand(opts: { socket: string; owner?: string }): Promise<void> {
  const socket = resolve(opts.socket);
  const owner = Number(opts.owner ?? 0);
  const ownerStart = owner ? startTime(owner) : '';
  if (owner && !ownerStart) throw new Error(`--owner ${owner}: no such process`);
  const p = await prepare();
  // Loaded now, not at the first Create: that is what a spare is for.
  await import('./control/runtime-library.js');
  const { SpareControl } = await import('./control/spare.js');
  const { serveSpare } = await import('./control/server.js');
  let spareServer: import('@grpc/grpc-js').Server | undefined;
  let watch: NodeJS.Timeout | undefined;
  const stopServing = (): void => {
    clearInterval(watch);
    rmSync(socket, { force: true });
    const s = spareServer;
    setTimeout(() => s?.forceShutdown(), 50);
  };
  const control = new SpareControl({
    become: async (c) => {
      await become(c, p);
      return { protocol: p.PROTOCOL, shimPid: process.pid, shimVersion: pkg.version };
    },
    release: stopServing,
    retire: (why) => {
      log('info', `spare retiring: ${why}`);
      stopServing();
      // The answer to Retire goes out first.
      setTimeout(() => process.exit(0), 100);
    },
  });
  onSigterm = () => {
    if (control.state === 'waiting') control.retire('SIGTERM');
    else log('info', 'ignoring SIGTERM (use Shutdown)');
  };
  spareServer = await serveSpare(control.handlers(), socket);
  // A spare nobody can claim any more goes: its socket was removed (its berth-containerd
  // retired it, or the state directory went), or the berth-containerd that started it is gone
  // (a new one retires every spare it did not start, so none is wanted then).
  watch = setInterval(() => {
    if (control.state !== 'waiting') return;
    if (!existsSync(socket)) control.retire('its spare socket is gone');
    else if (owner && startTime(owner) !== ownerStart) control.retire(`its berth-containerd (pid ${owner}) is gone`);
  }, SPARE_WATCH_MS);
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

program
  .command('spare')
  .description('wait on a spare socket, loaded, until Claim (berth.shim.v1.Spare) makes this the shim of one container; start it detached like serve')
  .requiredOption('--socket <path>', 'the spare socket (removing it retires the spare)')
  .option('--owner <pid>', 'the berth-containerd that started it: the spare retires when that process is gone')
  .action(async (opts: { socket: string; owner?: string }) => {
    try {
      await spareCommand(opts);
    } catch (err) {
      process.stderr.write(`berth-shim: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

program.parseAsync(process.argv);
