// berth: the command-line client: Docker's commands, flags, output formats and exit codes, talking only to berthd.
// A placeholder until its issue lands: it answers --version and --help and says plainly that it
// does nothing else yet.
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };

const program = new Command('berth')
  .description("the command-line client: Docker's commands, flags, output formats and exit codes, talking only to berthd.\n\nNot implemented yet: this build only answers --version and --help.")
  .version(pkg.version, '-v, --version')
  .helpOption('-h, --help')
  .allowUnknownOption(false)
  .action(() => {
    process.stderr.write('berth: not implemented yet (this build only answers --version and --help)\n');
    process.exitCode = 1;
  });

program.parse(process.argv);
