/** `chungthuc extend IN.pdf -o OUT.pdf --level B-LTA`: the same use case as POST /api/v1/signatures/extend. */
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { buildTrustServices } from '../main.ts';
import { openDatabase } from '../registry/index.ts';
import { extendDocument } from '../services/extendDocument.ts';
import { openToken } from '../signers/index.ts';
import type { Command } from './command.ts';

const LEVELS = ['B-T', 'B-LT', 'B-LTA'] as const;

export const extendCommand: Command = {
  path: ['extend'],
  summary: 'raise a signed PDF to B-T, B-LT or B-LTA (DSS, document timestamps), or renew an LTA timestamp',
  usage: 'IN.pdf -o OUT.pdf [--level B-LTA]',
  options: {
    output: [{ type: 'string', short: 'o' }, 'output file (required; never the input)'],
    level: [{ type: 'string' }, 'B-T, B-LT or B-LTA (default B-LTA)'],
  },
  async run(values, positionals, io) {
    const input = positionals[0];
    const output = values.output;
    if (positionals.length !== 1 || typeof input !== 'string' || typeof output !== 'string') {
      io.err('chungthuc extend: give exactly one input file and -o OUT.pdf\n');
      return 2;
    }
    if (path.resolve(input) === path.resolve(output)) {
      io.err('chungthuc extend: the output must differ from the input\n');
      return 2;
    }
    const level = (values.level ?? 'B-LTA') as string;
    if (!(LEVELS as readonly string[]).includes(level)) throw new InputError('invalid-parameters', `--level must be one of ${LEVELS.join(', ')}`);
    const config = loadConfig();
    const token = await openToken({ ...config.pkcs11, poolSize: 1 });
    const db = openDatabase(path.join(config.dataDir, 'chungthuc.sqlite'));
    try {
      const trust = buildTrustServices(config, (label) => token.getSigner(label), db.db);
      const r = await extendDocument(trust.signing, { path: input }, { path: output }, level as (typeof LEVELS)[number]);
      io.out(`${output}: ${r.level}, added ${r.added.join(' + ')}, ${r.length} bytes\n`);
      return 0;
    } finally {
      db.close();
      await token.close();
    }
  },
};
