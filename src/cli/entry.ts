// Entry points: `duet <command>` (bin/duet.js) and scripts/<command>.ts run the same DuetCommand
// modules (src/cli/commands), in this process, through runMain (the one place for exit codes).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../errors.ts';
import { withDuetDefaults, type DuetCommand } from './command.ts';
import { commandsFor } from './commands/table.ts';
import { runMain } from './main.ts';

/** Runs one command as its own program: `npx tsx scripts/<name>.ts ARGS`. */
export function runScript(command: DuetCommand, args: string[] = hideBin(process.argv)): void {
  runMain(async () => {
    const parser = withDuetDefaults(yargs(args), command.name);
    // A command with positionals is the default command; one with subcommands (fixtures) is the program itself.
    const argv = await (command.args === '' ? command.builder(parser) : parser.command(`$0 ${command.args}`, command.describe, command.builder)).parseAsync();
    return command.run(argv as never);
  }, args);
}

/**
 * `duet <command> ARGS`, and `duet completion` (a bash/zsh completion script). Without `given`, only
 * the named command's module is loaded (start-up time), or every one when the arguments name none.
 */
export function runDuet(args: string[] = hideBin(process.argv), given?: readonly DuetCommand[]): void {
  runMain(async () => {
    const commands = given ?? (await commandsFor(args));
    const named = commands.find((c) => c.name === args[0]);
    let parser = withDuetDefaults(yargs(args), 'duet', named ? `duet ${named.name}` : 'duet')
      .usage('duet <command> ...\n\nOne inventory YAML -> a running, verified MySQL/MariaDB master-master pair with a Heartbeat floating IP.')
      .completion('completion', 'print a bash/zsh completion script: duet completion >> ~/.bashrc (or ~/.zshrc)');
    for (const command of commands) {
      parser = parser.command(`${command.name}${command.args ? ` ${command.args}` : ''}`, command.describe, command.builder);
    }
    const argv = await parser
      .demandCommand(1, `give a command: ${commands.map((c) => c.name).join(', ')}`)
      .epilogue('duet COMMAND --help shows a command\'s options. Exit codes: 0 ok; 1 a check or host failed (see the report); 2 bad input or usage, nothing touched; 3 SSH; 4 host not usable; 5 a change failed (what was rolled back is said); 6 refused by the replication state, nothing changed; 7 fixtures; 70 a bug in duet.')
      .parseAsync();
    const command = commands.find((c) => c.name === argv._[0]);
    if (!command) throw new UsageError(`unknown command ${String(argv._[0])}`, { hint: `commands: ${commands.map((c) => c.name).join(', ')}` });
    return command.run(argv as never);
  }, args);
}
