import { Command } from 'commander';
import { writeSync } from 'node:fs';
import { createCommand } from './cli/create.js';
import { type GlobalOptions } from './cli/context.js';
import { deleteCommand } from './cli/delete.js';
import { eventsCommand } from './cli/events.js';
import { execCommand } from './cli/exec.js';
import { killCommand } from './cli/kill.js';
import { listCommand } from './cli/list.js';
import { pauseCommand, resumeCommand } from './cli/pause.js';
import { psCommand } from './cli/ps.js';
import { runCommand } from './cli/run.js';
import { featuresCommand, specCommand } from './cli/spec.js';
import { startCommand } from './cli/start.js';
import { stateCommand } from './cli/state.js';
import { updateCommand } from './cli/update.js';
import { errorMessage } from './errors.js';
import { Logger } from './log.js';

const VERSION = '0.1.0';

const program = new Command('berth-runc')
  .description('berth-runc: an OCI runtime. Drop-in for runc as containerd and Docker call it.')
  .version(`berth-runc version ${VERSION}\nspec: 1.2.0`, '-v, --version')
  .option('--root <dir>', 'where container state is kept', '/run/berth-runc')
  .option('--log <file>', 'log file (default: stderr)')
  .option('--log-format <format>', 'text or json', 'text')
  .option('--debug', 'log debug messages')
  .option('--systemd-cgroup', 'use systemd for cgroups (not supported)')
  .option('--rootless <value>', 'runc compatibility: only false is supported')
  .option('--criu <path>', 'runc compatibility: ignored (no checkpoint/restore)')
  .enablePositionalOptions()
  .showHelpAfterError()
  // Errors go through our logger (stderr and --log), never commander's stream writes.
  .configureOutput({ writeOut: (s) => void writeSync(1, s), writeErr: (s) => void writeSync(2, s) });

for (const cmd of [
  createCommand(), startCommand(), stateCommand(), killCommand(), deleteCommand(), runCommand(), execCommand(),
  psCommand(), listCommand(), pauseCommand(), resumeCommand(), updateCommand(), eventsCommand(), specCommand(), featuresCommand(),
]) {
  program.addCommand(cmd.configureOutput({ writeOut: (s) => void writeSync(1, s), writeErr: (s) => void writeSync(2, s) }));
}

program
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    const g = program.opts<GlobalOptions>();
    const log = new Logger(g.log, g.logFormat === 'json' ? 'json' : 'text', false);
    log.error(errorMessage(err));
    if (g.log) writeSync(2, `berth-runc: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  })
  // All output is written synchronously, so nothing is lost by not waiting for the event loop
  // to drain (a foreground container's exit is already known here).
  .then(() => process.exit());
