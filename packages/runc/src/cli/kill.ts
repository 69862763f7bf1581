import { Command } from 'commander';
import { kill, parseSignal } from '../container/kill.js';
import { contextOf } from './context.js';

export function killCommand(): Command {
  return new Command('kill')
    .description("send a signal (default SIGTERM) to a container's init")
    .argument('<container-id>')
    .argument('[signal]', 'name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'signal every process of the container')
    .action(async (id: string, signal: string, o, cmd: Command) => kill(contextOf(cmd), id, parseSignal(signal), o.all ?? false));
}
