/**
 * Open the dev SoftHSM2 token made by scripts/dev-pki.ts, for tests of any layer. Reads hsm/pin.
 */
import { readFileSync } from 'node:fs';
import { DEV_PATHS, DEV_PKCS11_MODULE, DEV_TOKEN_LABEL } from '../../scripts/devPkiPaths.ts';
import { openToken, type Pkcs11Token } from '../../src/signers/index.ts';

export { DEV_KEY_LABELS, DEV_PATHS, DEV_PKCS11_MODULE, DEV_TOKEN_LABEL, devCertPath } from '../../scripts/devPkiPaths.ts';

/** Point SoftHSM2 at the dev configuration (it reads SOFTHSM2_CONF at C_Initialize). */
export function useDevSoftHsmConf(): void {
  process.env.SOFTHSM2_CONF = DEV_PATHS.softhsmConf;
}

export function devPin(): string {
  return readFileSync(DEV_PATHS.pinFile, 'utf8').trim();
}

export async function openDevToken(opts: { poolSize?: number; logger?: Parameters<typeof openToken>[0]['logger'] } = {}): Promise<Pkcs11Token> {
  useDevSoftHsmConf();
  return openToken({ module: DEV_PKCS11_MODULE, tokenLabel: DEV_TOKEN_LABEL, pin: devPin(), poolSize: opts.poolSize ?? 2, ...(opts.logger ? { logger: opts.logger } : {}) });
}

/** DER of a PEM file's first block. */
export function readPemDer(file: string): Uint8Array {
  const pem = readFileSync(file, 'utf8');
  const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/.exec(pem);
  if (!m) throw new Error(`${file} is not PEM`);
  return new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}
