/** `chungthuc extend IN.pdf -o OUT.pdf --level B-LTA`: the same use case as POST /api/v1/signatures/extend. */
import { InputError } from '../errors.ts';
import { revokedPhrase } from '../pades/index.ts';
import { extendDocument } from '../services/extendDocument.ts';
import type { Command } from './command.ts';
import { inputOutput, withTrustServices } from './signingContext.ts';

const LEVELS = ['B-T', 'B-LT', 'B-LTA'] as const;

export const extendCommand: Command = {
  path: ['extend'],
  summary: 'raise a signed PDF to B-T, B-LT or B-LTA (DSS, document timestamps), or renew an LTA timestamp',
  usage: 'IN.pdf -o OUT.pdf [--level B-LTA]',
  operands: true,
  options: {
    output: [{ type: 'string', short: 'o' }, 'output file (required; never the input)'],
    level: [{ type: 'string' }, 'B-T, B-LT or B-LTA (default B-LTA)'],
  },
  async run(values, positionals, io) {
    const args = inputOutput('extend', values, positionals, io);
    if (!args) return 2;
    const { input, output } = args;
    const level = (values.level ?? 'B-LTA') as string;
    if (!(LEVELS as readonly string[]).includes(level)) throw new InputError('invalid-parameters', `--level must be one of ${LEVELS.join(', ')}`);
    const r = await withTrustServices((trust) => extendDocument(trust.signing, { path: input }, { path: output }, level as (typeof LEVELS)[number]));
    io.out(`${output}: ${r.level}, added ${r.added.join(' + ')}, ${r.length} bytes\n`);
    for (const c of r.revoked) io.out(`  note: "${c.subject}" ${revokedPhrase(c)}; its revocation evidence is in the DSS\n`);
    return 0;
  },
};
