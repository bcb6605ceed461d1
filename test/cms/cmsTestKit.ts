/** Shared steps of the CMS tests: the staged signing flow and the openssl command lines that judge it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DigestAlgorithm, SignatureScheme } from '../../src/signers/Signer.ts';
import {
  assembleSignedData,
  buildSignedAttributes,
  digest,
  type CmsProfile,
  type SignedAttributes,
} from '../../src/cms/index.ts';
import type { SoftPki, SoftSigner } from '../support/softSigner.ts';

export interface SignedSample {
  readonly cms: Uint8Array;
  readonly signedAttributes: SignedAttributes;
  readonly signatureValue: Uint8Array;
}

/** prepare → digest → sign → embed, exactly as the PAdES layer will do it. */
export async function signDetached(
  pki: SoftPki,
  signer: SoftSigner,
  content: Uint8Array,
  digestAlgorithm: DigestAlgorithm,
  scheme: SignatureScheme,
  options: { profile?: CmsProfile; signingTime?: Date; chain?: Uint8Array[] } = {},
): Promise<SignedSample> {
  const signedAttributes = buildSignedAttributes({
    contentDigest: digest(digestAlgorithm, content),
    digestAlgorithm,
    signerCertificate: signer.certificate,
    profile: options.profile ?? 'cades',
    ...(options.signingTime === undefined ? {} : { signingTime: options.signingTime }),
  });
  const signatureValue = await signer.sign(digest(digestAlgorithm, signedAttributes.der), digestAlgorithm, scheme);
  const cms = assembleSignedData({
    signedAttributes,
    signatureValue,
    signerCertificate: signer.certificate,
    chain: options.chain ?? [pki.intermediate.der, pki.root.der],
    digestAlgorithm,
    scheme,
  });
  return { cms, signedAttributes, signatureValue };
}

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}

export function run(command: string, args: readonly string[], cwd?: string): CommandResult {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export function scratchDir(pki: SoftPki): string {
  return mkdtempSync(path.join(pki.dir, 'case-'));
}

/** `openssl cms -verify` of a detached signature against the test root. */
export function opensslVerify(pki: SoftPki, cms: Uint8Array, content: Uint8Array): CommandResult {
  const dir = scratchDir(pki);
  writeFileSync(path.join(dir, 'sig.der'), cms);
  writeFileSync(path.join(dir, 'content.bin'), content);
  return run('openssl', [
    'cms', '-verify', '-binary', '-inform', 'DER', '-in', 'sig.der', '-content', 'content.bin',
    '-CAfile', pki.root.path, '-purpose', 'any', '-out', '/dev/null',
  ], dir);
}

export function opensslPrint(pki: SoftPki, cms: Uint8Array): string {
  const dir = scratchDir(pki);
  writeFileSync(path.join(dir, 'sig.der'), cms);
  const r = run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'sig.der'], dir);
  if (r.status !== 0) throw new Error(`openssl cms -print failed: ${r.output}`);
  return r.output;
}
