/**
 * Digest facts the signers need without a crypto library: output lengths, the DER DigestInfo prefix
 * for RSASSA-PKCS1-v1_5 and the PKCS#11 mechanism/MGF constants for RSASSA-PSS.
 */
import pkcs11js from 'pkcs11js';
import type { DigestAlgorithm } from './Signer.ts';
import { HsmError } from './errors.ts';

export const DIGEST_LENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};

/**
 * DER of `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }` up to
 * the digest bytes, with NULL parameters, exactly as listed in RFC 8017 §9.2 note 1. CKM_RSA_PKCS only
 * pads, so the DigestInfo is ours to build (PKCS#11 v2.40 §2.1.6).
 */
const DIGEST_INFO_PREFIX: Readonly<Record<DigestAlgorithm, Uint8Array>> = {
  'SHA-256': Uint8Array.from([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
  'SHA-384': Uint8Array.from([0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]),
  'SHA-512': Uint8Array.from([0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]),
};

/** Throws `hsm-digest-invalid` unless `digest` has the output length of `alg`. */
export function checkDigest(digest: Uint8Array, alg: DigestAlgorithm): void {
  const expected = DIGEST_LENGTH[alg] as number | undefined;
  if (expected === undefined) {
    throw new HsmError('hsm-digest-invalid', `unsupported digest algorithm ${String(alg)} (SHA-256/384/512 only)`);
  }
  if (digest.length !== expected) {
    throw new HsmError('hsm-digest-invalid', `a ${alg} digest is ${expected} bytes, got ${digest.length}`, {
      details: { digestAlgorithm: alg, length: digest.length },
    });
  }
}

export function digestInfo(digest: Uint8Array, alg: DigestAlgorithm): Uint8Array {
  checkDigest(digest, alg);
  const prefix = DIGEST_INFO_PREFIX[alg];
  const out = new Uint8Array(prefix.length + digest.length);
  out.set(prefix, 0);
  out.set(digest, prefix.length);
  return out;
}

/** CK_RSA_PKCS_PSS_PARAMS members for `alg` (PKCS#11 v2.40 §2.1.14): hash, MGF1 with the same hash. */
export function pssParams(alg: DigestAlgorithm): { hashAlg: number; mgf: number; saltLen: number } {
  switch (alg) {
    case 'SHA-256':
      return { hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 };
    case 'SHA-384':
      return { hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, saltLen: 48 };
    case 'SHA-512':
      return { hashAlg: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512, saltLen: 64 };
  }
}
