/** A tiny command framework over node:util parseArgs: every command has --help and typed options. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface Command {
  /** Words that select the command, e.g. ['hsm', 'keys']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Usage line after `chungthuc <path>`, e.g. 'IN.pdf -o OUT.pdf [options]'. */
  readonly usage: string;
  /** Option name → [parseArgs spec, help text]. */
  readonly options: Record<string, [Options[string], string]>;
  /**
   * The command takes arguments besides its options (files, a code, a username). Any other command refuses
   * them as a usage error: `registry verify files` (for --files) must not check less and say OK.
   */
  readonly operands?: true;
  run(values: Record<string, unknown>, positionals: string[], io: CommandContext): Promise<number>;
}

export function helpText(cmd: Command): string {
  const lines = [`Usage: chungthuc ${cmd.path.join(' ')} ${cmd.usage}`.trimEnd(), '', cmd.summary, '', 'Options:'];
  const entries = Object.entries(cmd.options);
  entries.push(['help', [{ type: 'boolean', short: 'h' }, 'show this help']]);
  for (const [name, [spec, text]] of entries) {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    lines.push(`  ${flag.padEnd(30)} ${text}`);
  }
  return lines.join('\n') + '\n';
}

export function parseCommandArgs(cmd: Command, argv: string[]): { values: Record<string, unknown>; positionals: string[] } {
  const options: Options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, [spec]] of Object.entries(cmd.options)) options[name] = spec;
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  return { values: values as Record<string, unknown>, positionals };
}
