// berthd: the engine daemon: image names and tags, container configs, volumes, networks, builds, registry pull/push, restart policies and log reading, driving berth-containerd.
// A placeholder until its issue lands: it answers --version and --help and says plainly that it
// does nothing else yet.
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };

const program = new Command('berthd')
  .description('the engine daemon: image names and tags, container configs, volumes, networks, builds, registry pull/push, restart policies and log reading, driving berth-containerd.\n\nNot implemented yet: this build only answers --version and --help.')
  .version(pkg.version, '-v, --version')
  .helpOption('-h, --help')
  .allowUnknownOption(false)
  .action(() => {
    process.stderr.write('berthd: not implemented yet (this build only answers --version and --help)\n');
    process.exitCode = 1;
  });

program.parse(process.argv);
