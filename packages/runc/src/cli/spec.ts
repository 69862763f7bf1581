import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { AlreadyExistsError, InvalidArgumentError } from '../errors.js';
import { defaultSpec } from '../spec/default-spec.js';
import { features } from '../features.js';
import { printJson } from './context.js';

export function specCommand(): Command {
  return new Command('spec')
    .description('write a default config.json into the bundle')
    .option('-b, --bundle <dir>', 'where to write config.json', '.')
    .option('--rootless', 'not supported')
    .action((o) => {
      if (o.rootless) throw new InvalidArgumentError('--rootless specs are not supported');
      const path = join(o.bundle, 'config.json');
      if (existsSync(path)) throw new AlreadyExistsError(`${path} exists already; remove it first`);
      writeFileSync(path, JSON.stringify(defaultSpec(), null, '\t') + '\n');
    });
}

export function featuresCommand(): Command {
  return new Command('features').description('print what this runtime implements, as JSON').action(() => printJson(features()));
}
