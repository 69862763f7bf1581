import { Command } from 'commander';
import { deleteContainer } from '../container/delete.js';
import { NotFoundError } from '../errors.js';
import { contextOf } from './context.js';

export function deleteCommand(): Command {
  return new Command('delete')
    .alias('rm')
    .description('delete a container and what it holds (cgroup, state)')
    .argument('<container-id>')
    .option('-f, --force', 'kill a running or paused container first; a missing one is not an error')
    .action(async (id: string, o, cmd: Command) => {
      try {
        await deleteContainer(contextOf(cmd), id, o.force ?? false);
      } catch (err) {
        if (!(o.force && err instanceof NotFoundError)) throw err;
      }
    });
}
