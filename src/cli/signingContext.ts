/** What the signing commands share: IN -o OUT arguments, and the HSM + database + trust services. */
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { buildTrustServices, type TrustServices } from '../main.ts';
import { openDatabase } from '../registry/index.ts';
import { keyHolder } from '../services/keyHolder.ts';
import { openToken } from '../signers/index.ts';
import type { CommandContext } from './command.ts';

/** One input and `-o OUT`, distinct (earlier bytes are never rewritten in place); undefined after a usage message. */
export function inputOutput(command: string, values: Record<string, unknown>, positionals: string[], io: CommandContext): { input: string; output: string } | undefined {
  const input = positionals[0];
  const output = values.output;
  if (positionals.length !== 1 || typeof input !== 'string' || typeof output !== 'string') {
    io.err(`chungthuc ${command}: give exactly one input file and -o OUT.pdf\n`);
    return undefined;
  }
  if (path.resolve(input) === path.resolve(output)) {
    io.err(`chungthuc ${command}: the output must differ from the input (earlier bytes are never rewritten in place)\n`);
    return undefined;
  }
  return { input, output };
}

/** The holder's name in the certificate of an HSM key of the configured token; undefined when the token or the key's certificate is not at hand. */
export async function tokenKeyHolder(keyLabel: string): Promise<string | undefined> {
  const config = loadConfig();
  let token: Awaited<ReturnType<typeof openToken>>;
  try {
    token = await openToken({ ...config.pkcs11, poolSize: 1 });
  } catch {
    return undefined;
  }
  try {
    return await keyHolder((label) => token.getSigner(label), keyLabel);
  } finally {
    await token.close();
  }
}

/** Runs `fn` with the configured token and the service database (the built-in TSA's serials live there). */
export async function withTrustServices<T>(fn: (trust: TrustServices) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const token = await openToken({ ...config.pkcs11, poolSize: 1 });
  const db = openDatabase(path.join(config.dataDir, 'chungthuc.sqlite'));
  try {
    return await fn(buildTrustServices(config, (label) => token.getSigner(label), db.db));
  } finally {
    db.close();
    await token.close();
  }
}
