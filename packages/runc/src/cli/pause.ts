import { Command } from 'commander';
import { pause, resume } from '../container/pause.js';
import { contextOf } from './context.js';

export function pauseCommand(): Command {
  return new Command('pause')
    .description('freeze every process of a container')
    .argument('<container-id>')
    .action(async (id: string, _o, cmd: Command) => pause(contextOf(cmd), id));
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description('thaw a paused container')
    .argument('<container-id>')
    .action((id: string, _o, cmd: Command) => resume(contextOf(cmd), id));
}
