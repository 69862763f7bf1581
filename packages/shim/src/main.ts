// berth-shim: the per-container shim: the parent of one container, owner of its stdio, log file and exit status, running the OCI runtime.
// A placeholder until its issue lands: it answers --version and --help and says plainly that it
// does nothing else yet.
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };

const program = new Command('berth-shim')
  .description('the per-container shim: the parent of one container, owner of its stdio, log file and exit status, running the OCI runtime.\n\nNot implemented yet: this build only answers --version and --help.')
  .version(pkg.version, '-v, --version')
  .helpOption('-h, --help')
  .allowUnknownOption(false)
  .action(() => {
    process.stderr.write('berth-shim: not implemented yet (this build only answers --version and --help)\n');
    process.exitCode = 1;
  });

program.parse(process.argv);
