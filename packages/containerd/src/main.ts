// berth-containerd: the lifecycle daemon: content store, overlay snapshots, image and container metadata, tasks, events and namespaces; it starts and re-finds one berth-shim per container.
// A placeholder until its issue lands: it answers --version and --help and says plainly that it
// does nothing else yet.
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };

const program = new Command('berth-containerd')
  .description('the lifecycle daemon: content store, overlay snapshots, image and container metadata, tasks, events and namespaces; it starts and re-finds one berth-shim per container.\n\nNot implemented yet: this build only answers --version and --help.')
  .version(pkg.version, '-v, --version')
  .helpOption('-h, --help')
  .allowUnknownOption(false)
  .action(() => {
    process.stderr.write('berth-containerd: not implemented yet (this build only answers --version and --help)\n');
    process.exitCode = 1;
  });

program.parse(process.argv);
