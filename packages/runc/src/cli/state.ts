import { Command } from 'commander';
import { state } from '../container/state.js';
import { contextOf, printJson } from './context.js';

export function stateCommand(): Command {
  return new Command('state')
    .description("print a container's state as JSON")
    .argument('<container-id>')
    .action((id: string, _o, cmd: Command) => printJson(state(contextOf(cmd), id)));
}
