import { Command } from 'commander';
import { start } from '../container/start.js';
import { contextOf } from './context.js';

export function startCommand(): Command {
  return new Command('start')
    .description('start the process of a created container')
    .argument('<container-id>')
    .action(async (id: string, _o, cmd: Command) => start(contextOf(cmd), id));
}
