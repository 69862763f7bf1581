import { Command } from 'commander';
import { run } from '../container/run.js';
import { contextOf } from './context.js';
import { createOptionsOf, withCreateOptions } from './create.js';

export function runCommand(): Command {
  return withCreateOptions(new Command('run').description('create and start a container; in the foreground, exit with its status and delete it'))
    .option('-d, --detach', 'return once the container runs')
    .option('--keep', 'do not delete the container after it exits')
    .action(async (id: string, o, cmd: Command) => {
      process.exitCode = await run(contextOf(cmd), id, { ...createOptionsOf(o), detach: o.detach, keep: o.keep });
    });
}
