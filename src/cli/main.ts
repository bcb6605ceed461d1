/**
 * `chungthuc` command-line front end: as thin as the HTTP layer, it parses arguments and calls the
 * same services. Exit codes: 0 success, 1 failure of the operation, 2 usage error.
 */
import { describeError } from '../main.ts';
import { helpText, parseCommandArgs, type Command, type CommandContext } from './command.ts';
import { COMMANDS } from './commands.ts';

function globalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length)) + 2;
  return [
    'Usage: chungthuc <command> [options]',
    '',
    'PAdES signing, validation and certified electronic copies.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}${c.summary}`),
    '',
    'Run `chungthuc <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

function findCommand(argv: string[], commands: readonly Command[]): { cmd: Command; rest: string[] } | undefined {
  // Longest match first, so `hsm keys` wins over a hypothetical `hsm`.
  const sorted = [...commands].sort((a, b) => b.path.length - a.path.length);
  for (const cmd of sorted) {
    if (cmd.path.every((w, i) => argv[i] === w)) return { cmd, rest: argv.slice(cmd.path.length) };
  }
  return undefined;
}

export async function main(
  argv: string[],
  io: CommandContext = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(globalHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv, commands);
  if (!found) {
    io.err(`chungthuc: unknown command "${argv.join(' ')}"\n\n${globalHelp(commands)}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(found.cmd, found.rest);
  } catch (err) {
    io.err(`chungthuc ${found.cmd.path.join(' ')}: ${err instanceof Error ? err.message : String(err)}\n\n${helpText(found.cmd)}`);
    return 2;
  }
  if (parsed.values.help === true) {
    io.out(helpText(found.cmd));
    return 0;
  }
  if (!found.cmd.operands && parsed.positionals.length > 0) {
    io.err(`chungthuc ${found.cmd.path.join(' ')}: unexpected argument "${parsed.positionals[0]}" (options start with --)\n\n${helpText(found.cmd)}`);
    return 2;
  }
  try {
    return await found.cmd.run(parsed.values, parsed.positionals, io);
  } catch (err) {
    // One line, no stack: the message, the causes it does not already say, the code.
    io.err(`chungthuc ${found.cmd.path.join(' ')}: ${describeError(err)}\n`);
    return 1;
  }
}
