/**
 * Digest algorithms: names, OIDs and hashing over node:crypto. New signatures only use SHA-2
 * (`DigestAlgorithm` of the Signer port, ETSI TS 119 312); validation must also read older or newer ones.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { DigestAlgorithm } from '../signers/Signer.ts';
import * as oid from './oids.ts';

export type { DigestAlgorithm };

/** Every digest the validator can recompute. */
export type HashAlgorithm =
  | 'SHA-1'
  | 'SHA-224'
  | 'SHA-256'
  | 'SHA-384'
  | 'SHA-512'
  | 'SHA3-256'
  | 'SHA3-384'
  | 'SHA3-512'
  | 'SHAKE256';

interface HashSpec {
  readonly oid: string;
  readonly nodeName: string;
  readonly length: number;
}

const SPECS: Readonly<Record<HashAlgorithm, HashSpec>> = {
  'SHA-1': { oid: oid.OID_SHA1, nodeName: 'sha1', length: 20 },
  'SHA-224': { oid: oid.OID_SHA224, nodeName: 'sha224', length: 28 },
  'SHA-256': { oid: oid.OID_SHA256, nodeName: 'sha256', length: 32 },
  'SHA-384': { oid: oid.OID_SHA384, nodeName: 'sha384', length: 48 },
  'SHA-512': { oid: oid.OID_SHA512, nodeName: 'sha512', length: 64 },
  'SHA3-256': { oid: oid.OID_SHA3_256, nodeName: 'sha3-256', length: 32 },
  'SHA3-384': { oid: oid.OID_SHA3_384, nodeName: 'sha3-384', length: 48 },
  'SHA3-512': { oid: oid.OID_SHA3_512, nodeName: 'sha3-512', length: 64 },
  // RFC 8419 §2.3: id-shake256 in CMS means a 512-bit output.
  SHAKE256: { oid: oid.OID_SHAKE256, nodeName: 'shake256', length: 64 },
};

export function hashAlgorithmOid(alg: HashAlgorithm): string {
  return SPECS[alg].oid;
}

export function hashAlgorithmFromOid(algorithmOid: string): HashAlgorithm | undefined {
  for (const [name, spec] of Object.entries(SPECS) as [HashAlgorithm, HashSpec][]) {
    if (spec.oid === algorithmOid) return name;
  }
  return undefined;
}

export function digestLength(alg: HashAlgorithm): number {
  return SPECS[alg].length;
}

/** node:crypto name of the hash, for `crypto.verify` / `createVerify`. */
export function nodeHashName(alg: HashAlgorithm): string {
  return SPECS[alg].nodeName;
}

/** Hashes `data`, which may be given in pieces (e.g. the two ByteRange segments of a PDF). */
/** SHA-256 (hex) of a file, read as a stream (request bodies, stored copies, backups). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function digest(alg: HashAlgorithm, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const spec = SPECS[alg];
  const hash = alg === 'SHAKE256' ? createHash(spec.nodeName, { outputLength: spec.length }) : createHash(spec.nodeName);
  for (const chunk of data instanceof Uint8Array ? [data] : data) hash.update(chunk);
  return new Uint8Array(hash.digest());
}

export function isDigestAlgorithm(alg: string): alg is DigestAlgorithm {
  return alg === 'SHA-256' || alg === 'SHA-384' || alg === 'SHA-512';
}
