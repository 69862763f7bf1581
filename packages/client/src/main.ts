// berth: the command-line client. Docker's commands, flags, output formats and exit codes, talking
// only to berthd (berth.engine.v1). One file per command in cli/; errors become an exit code and a
// message once, here: 125 for a bad command line (and for run/create, in cli/run.ts), 1 for a
// daemon error, the container's own code where one is passed through.
import { Command, CommanderError } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { attachCommand } from './cli/attach.js';
import { cpCommand } from './cli/cp.js';
import { createCommand } from './cli/create.js';
import { eventsCommand } from './cli/events.js';
import { execCommand } from './cli/exec.js';
import { imagesCommand } from './cli/images.js';
import { importCommand } from './cli/import.js';
import { infoCommand } from './cli/info.js';
import { inspectCommand } from './cli/inspect.js';
import { killCommand } from './cli/kill.js';
import { logsCommand } from './cli/logs.js';
import { pauseCommand } from './cli/pause.js';
import { pruneCommand } from './cli/prune.js';
import { psCommand } from './cli/ps.js';
import { renameCommand } from './cli/rename.js';
import { restartCommand } from './cli/restart.js';
import { rmCommand } from './cli/rm.js';
import { rmiCommand } from './cli/rmi.js';
import { runCommand } from './cli/run.js';
import { startCommand } from './cli/start.js';
import { statsCommand } from './cli/stats.js';
import { stopCommand } from './cli/stop.js';
import { tagCommand } from './cli/tag.js';
import { topCommand } from './cli/top.js';
import { unpauseCommand } from './cli/unpause.js';
import { updateCommand } from './cli/update.js';
import { versionCommand } from './cli/version.js';
import { waitCommand } from './cli/wait.js';
import { makeCtx, type Ctx } from './lib/context.js';
import { ExitError, UsageError, describe } from './lib/errors.js';

/** The command tree: Docker's top-level shortcuts and the `container` and `image` groups. */
export function buildProgram(): { program: Command; ctx: Ctx } {
  const program = new Command('berth');
  const ctx = makeCtx(() => program.opts<{ host?: string }>().host);
  program
    .description("A Docker-class container engine's client: Docker's commands, flags and output, talking to berthd")
    .usage('[OPTIONS] COMMAND')
    .version(pkg.version, '-v, --version', 'print version information and quit')
    .option('-H, --host <socket>', 'daemon socket to connect to (unix:///path; default $BERTH_HOST, else unix:///run/berth/berthd.sock)')
    .enablePositionalOptions();

  // Commands that exist both at the top level and in a group ("berth ps" and "berth container ls").
  const containerVerbs = (into: Command, top: boolean): void => {
    into.addCommand(top ? psCommand(ctx) : psCommand(ctx, 'ls', ['ps', 'list']));
    for (const f of [runCommand, createCommand, startCommand, stopCommand, restartCommand, killCommand, pauseCommand, unpauseCommand, rmCommand,
      logsCommand, execCommand, attachCommand, topCommand, cpCommand, waitCommand, renameCommand, statsCommand, updateCommand]) {
      into.addCommand(f(ctx));
    }
    if (!top) {
      into.addCommand(inspectCommand(ctx, 'inspect', 'container'));
      into.addCommand(pruneCommand(ctx));
    }
  };
  containerVerbs(program, true);
  program.addCommand(inspectCommand(ctx));
  program.addCommand(imagesCommand(ctx));
  program.addCommand(importCommand(ctx));
  program.addCommand(tagCommand(ctx));
  program.addCommand(rmiCommand(ctx));
  program.addCommand(versionCommand(ctx));
  program.addCommand(infoCommand(ctx));
  program.addCommand(eventsCommand(ctx));

  const container = new Command('container').description('Manage containers').enablePositionalOptions();
  containerVerbs(container, false);
  program.addCommand(container);
  const image = new Command('image').description('Manage images').enablePositionalOptions();
  image.addCommand(imagesCommand(ctx, 'ls', ['list']));
  image.addCommand(inspectCommand(ctx, 'inspect', 'image'));
  image.addCommand(importCommand(ctx));
  image.addCommand(tagCommand(ctx));
  image.addCommand(rmiCommand(ctx, 'rm', ['remove']));
  program.addCommand(image);
  const system = new Command('system').description('Manage Berth').enablePositionalOptions();
  system.addCommand(infoCommand(ctx));
  system.addCommand(eventsCommand(ctx));
  program.addCommand(system);

  // Every command: errors are thrown to main (not printed by commander), groups without a verb show help.
  const setup = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ outputError: () => undefined });
    c.showSuggestionAfterError(false);
    for (const sub of c.commands) setup(sub);
  };
  setup(program);
  for (const g of [container, image, system]) g.action(() => g.help());
  return { program, ctx };
}

/** The command path for "See 'berth container run --help'." */
function commandPath(argv: string[], program: Command): string {
  const path = ['berth'];
  let cur: Command = program;
  for (const a of argv) {
    if (a.startsWith('-')) continue;
    const next = cur.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!next) break;
    path.push(a);
    cur = next;
  }
  return path.join(' ');
}

function commanderMessage(e: CommanderError): string {
  const m = e.message.replace(/^error: /, '');
  if (e.code === 'commander.unknownOption') {
    const flag = /'([^']+)'/.exec(m)?.[1] ?? m;
    return flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.replace(/^-/, '').charAt(0)}' in ${flag}`;
  }
  if (e.code === 'commander.unknownCommand') return m;
  return m;
}

export async function main(argv: string[]): Promise<number> {
  const { program, ctx } = buildProgram();
  const args = argv.slice(2);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.code === 'commander.unknownCommand') {
        const verb = /'([^']+)'/.exec(e.message)?.[1] ?? args[0];
        process.stderr.write(`berth: '${verb}' is not a berth command.\nSee 'berth --help'\n`);
        return 1;
      }
      process.stderr.write(`${commanderMessage(e)}\nSee '${commandPath(args, program)} --help'.\n`);
      return 125;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\nSee '${commandPath(args, program)} --help'.\n`);
      return 125;
    }
    if (e instanceof ExitError) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    process.stderr.write(`${describe(e, safeHost(ctx))}\n`);
    return 1;
  }
}

function safeHost(ctx: Ctx): string {
  try {
    return ctx.host();
  } catch {
    return '?';
  }
}

// A closed pipe on stdout (`berth logs -f c | head`) ends the command quietly, as docker's does.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

void main(process.argv).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`berth: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
