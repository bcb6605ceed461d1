/**
 * Cryptographic check of one SignerInfo (RFC 5652 §5.6) with node:crypto. The outcome is a value, never
 * an exception for a bad signature: the validator turns it into an ETSI EN 319 102-1 indication.
 */
import { constants, createVerify, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { CmsError } from './CmsError.ts';
import { children, decode, integerOf, isContext, oidOf, type Block } from './asn.ts';
import { certificateFields, certificateKey, integerValue, type PublicKeyKind } from './certificateFields.ts';
import { bytesEqual, concat } from './der.ts';
import { digest, hashAlgorithmFromOid, nodeHashName, type HashAlgorithm } from './digest.ts';
import * as oid from './oids.ts';
import type { EssCertId, ParsedSignedData, ParsedSignerInfo } from './parseSignedData.ts';

export interface VerifySignerInfoOptions {
  /**
   * The detached content claimed to be signed (PDF: the ByteRange segments in order). Required when the
   * SignerInfo has no signed attributes and nothing is encapsulated; with signed attributes,
   * message-digest is checked against it. When a ParsedSignedData carries eContent, that is what was
   * signed (RFC 5652 §5.4) and a different content given here is reported as `conflict`.
   */
  readonly content?: Uint8Array | readonly Uint8Array[];
  /** Certificate to verify with when it is not in the SignedData (e.g. found in the DSS). */
  readonly signerCertificate?: Uint8Array;
}

export type SignatureStatus = 'valid' | 'invalid' | 'indeterminate';

export type SignatureProblem =
  | 'signature-mismatch'
  | 'signer-certificate-missing'
  | 'unsupported-algorithm'
  | 'key-algorithm-mismatch'
  | 'content-required';

export type CheckOutcome = 'match' | 'mismatch' | 'absent' | 'not-checked';

export interface SignerInfoVerification {
  /** Only the signature value: `valid` when it verifies over the signed attributes (or the content). */
  readonly status: SignatureStatus;
  readonly problem: SignatureProblem | undefined;
  readonly detail: string | undefined;
  /** What was verified, e.g. `RSASSA-PSS/SHA-256`, `ECDSA/SHA-384`, `Ed448`. */
  readonly algorithm: string | undefined;
  /** message-digest attribute vs the digest of `content` (RFC 5652 §11.2). */
  readonly messageDigest: CheckOutcome;
  /** signing-certificate(-v2) vs the signer certificate (RFC 5035 §5.4, EN 319 122-1 §5.2.2.3). */
  readonly signingCertificate: CheckOutcome;
  /**
   * The content given in the options is what was signed: the signature is valid and either the
   * message-digest matches or, without signed attributes, the signature covers the content itself.
   * False when no content was given.
   */
  readonly intact: boolean;
  /**
   * Which content was checked: the one `given`, the `encapsulated` eContent, `conflict` when both exist
   * and differ (e.g. adbe.pkcs7.detached with eContent: the ByteRange is not what was signed), `none`.
   */
  readonly content: 'given' | 'encapsulated' | 'conflict' | 'none';
}

type Family = 'RSASSA-PKCS1-v1_5' | 'RSASSA-PSS' | 'ECDSA' | 'PLAIN-ECDSA' | 'Ed25519' | 'Ed448';

interface ResolvedAlgorithm {
  readonly family: Family;
  readonly hash: HashAlgorithm | undefined;
  readonly saltLength?: number;
}

const RSA_PKCS1_OIDS = new Set([
  oid.OID_RSA_ENCRYPTION,
  oid.OID_SHA1_WITH_RSA,
  oid.OID_SHA224_WITH_RSA,
  oid.OID_SHA256_WITH_RSA,
  oid.OID_SHA384_WITH_RSA,
  oid.OID_SHA512_WITH_RSA,
]);
const ECDSA_OIDS = new Set([
  oid.OID_EC_PUBLIC_KEY,
  oid.OID_ECDSA_WITH_SHA1,
  oid.OID_ECDSA_WITH_SHA224,
  oid.OID_ECDSA_WITH_SHA256,
  oid.OID_ECDSA_WITH_SHA384,
  oid.OID_ECDSA_WITH_SHA512,
]);

const KEY_KINDS: Readonly<Record<Family, readonly PublicKeyKind[]>> = {
  'RSASSA-PKCS1-v1_5': ['RSA'],
  'RSASSA-PSS': ['RSA', 'RSA-PSS'],
  ECDSA: ['EC'],
  'PLAIN-ECDSA': ['EC'],
  Ed25519: ['Ed25519'],
  Ed448: ['Ed448'],
};

export function verifySignerInfo(
  signer: ParsedSignerInfo | ParsedSignedData,
  options: VerifySignerInfoOptions = {},
): SignerInfoVerification {
  const certificate = options.signerCertificate ?? signer.signerCertificate;
  const given = chunks(options.content);
  const encapsulated = 'encapsulatedContent' in signer ? signer.encapsulatedContent : undefined;
  const signedContent = encapsulated !== undefined ? [encapsulated] : given;
  const content =
    encapsulated === undefined
      ? given === undefined
        ? 'none'
        : 'given'
      : given === undefined || bytesEqual(concat(given), encapsulated)
        ? 'encapsulated'
        : 'conflict';
  const messageDigest = checkMessageDigest(signer, signedContent);
  const signingCertificate = certificate === undefined ? 'not-checked' : checkSigningCertificate(signer, certificate);
  const result = (
    status: SignatureStatus,
    problem?: SignatureProblem,
    detail?: string,
    algorithm?: string,
  ): SignerInfoVerification => ({
    status,
    problem,
    detail,
    algorithm,
    messageDigest,
    signingCertificate,
    intact:
      status === 'valid' &&
      (content === 'given' || content === 'encapsulated') &&
      (messageDigest === 'match' || (messageDigest === 'absent' && signer.signedAttributes === undefined)),
    content,
  });

  let resolved: ResolvedAlgorithm;
  try {
    resolved = resolveAlgorithm(signer);
  } catch (error) {
    if (error instanceof CmsError) return result('indeterminate', 'unsupported-algorithm', error.message);
    throw error;
  }
  const algorithm = resolved.hash === undefined ? resolved.family : `${resolved.family}/${resolved.hash}`;
  if (certificate === undefined) {
    return result('indeterminate', 'signer-certificate-missing', 'the signer certificate is not available', algorithm);
  }
  let key: { kind: PublicKeyKind; publicKey: KeyObject };
  try {
    key = certificateKey(certificate);
  } catch (error) {
    return result('indeterminate', 'signer-certificate-missing', (error as Error).message, algorithm);
  }
  if (!KEY_KINDS[resolved.family].includes(key.kind)) {
    return result('invalid', 'key-algorithm-mismatch', `a ${key.kind} key cannot verify ${resolved.family}`, algorithm);
  }
  // RFC 5652 §5.4: with signed attributes the signature covers their DER; without, the content itself.
  const data = signer.signedAttributes !== undefined ? [signer.signedAttributes.der] : signedContent;
  if (data === undefined) {
    return result('indeterminate', 'content-required', 'no signed attributes: the content is needed', algorithm);
  }
  let ok: boolean;
  try {
    ok = verifyRaw(resolved, key.publicKey, data, signer.signatureValue);
  } catch (error) {
    // OpenSSL rejects some malformed signature values by throwing; that is still a failed signature.
    return result('invalid', 'signature-mismatch', (error as Error).message, algorithm);
  }
  return ok ? result('valid', undefined, undefined, algorithm) : result('invalid', 'signature-mismatch', undefined, algorithm);
}

function chunks(content: VerifySignerInfoOptions['content']): readonly Uint8Array[] | undefined {
  if (content === undefined) return undefined;
  return content instanceof Uint8Array ? [content] : content;
}

function verifyRaw(alg: ResolvedAlgorithm, key: KeyObject, data: readonly Uint8Array[], signature: Uint8Array): boolean {
  if (alg.family === 'Ed25519' || alg.family === 'Ed448') {
    // RFC 8419 §3.1: pure EdDSA over the whole message, no pre-hash.
    return cryptoVerify(null, concat(data), key, signature);
  }
  const verifier = createVerify(nodeHashName(alg.hash!));
  for (const chunk of data) verifier.update(chunk);
  switch (alg.family) {
    case 'RSASSA-PKCS1-v1_5':
      return verifier.verify({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    case 'RSASSA-PSS':
      return verifier.verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength! }, signature);
    case 'ECDSA':
      return verifier.verify({ key, dsaEncoding: 'der' }, signature);
    case 'PLAIN-ECDSA':
      // BSI TR-03111 §5.2.1: r||s, each the size of the group order — IEEE P1363 format.
      return verifier.verify({ key, dsaEncoding: 'ieee-p1363' }, signature);
  }
}

function resolveAlgorithm(signer: ParsedSignerInfo): ResolvedAlgorithm {
  const sigOid = signer.signatureAlgorithm.oid;
  const hash = signer.digestAlgorithm.name;
  const needHash = (): HashAlgorithm => {
    if (hash === undefined) {
      throw new CmsError('cms-unsupported-algorithm', `unknown digest algorithm ${signer.digestAlgorithm.oid}`);
    }
    return hash;
  };
  // Like OpenSSL's CMS_SignerInfo_verify, the SignerInfo digestAlgorithm is the hash of the signature.
  if (RSA_PKCS1_OIDS.has(sigOid)) return { family: 'RSASSA-PKCS1-v1_5', hash: needHash() };
  if (ECDSA_OIDS.has(sigOid)) return { family: 'ECDSA', hash: needHash() };
  if (sigOid.startsWith(`${oid.OID_PLAIN_ECDSA_PREFIX}.`)) return { family: 'PLAIN-ECDSA', hash: needHash() };
  if (sigOid === oid.OID_ED25519) return { family: 'Ed25519', hash: undefined };
  if (sigOid === oid.OID_ED448) return { family: 'Ed448', hash: undefined };
  if (sigOid === oid.OID_RSASSA_PSS) return resolvePss(signer.signatureAlgorithm.parameters);
  throw new CmsError('cms-unsupported-algorithm', `unsupported signature algorithm ${sigOid}`);
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1): hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT
 * mgf1SHA1, saltLength [2] DEFAULT 20, trailerField [3] DEFAULT 1.
 */
function resolvePss(parameters: Uint8Array | undefined): ResolvedAlgorithm {
  let hashOid = oid.OID_SHA1;
  let mgfHashOid = oid.OID_SHA1;
  let saltLength = 20;
  let trailer = 1;
  if (parameters === undefined) throw new CmsError('cms-unsupported-algorithm', 'RSASSA-PSS without parameters');
  for (const field of children(decode(parameters, 'RSASSA-PSS-params').block, 'RSASSA-PSS-params')) {
    const inner = children(field, 'RSASSA-PSS-params field')[0];
    if (isContext(field, 0)) hashOid = algorithmOid(inner);
    else if (isContext(field, 1)) {
      const [mgf, mgfParams] = children(inner, 'maskGenAlgorithm');
      if (oidOf(mgf, 'maskGenAlgorithm') !== oid.OID_MGF1) throw new CmsError('cms-unsupported-algorithm', 'PSS mask generation is not MGF1');
      mgfHashOid = algorithmOid(mgfParams);
    } else if (isContext(field, 2)) saltLength = integerOf(inner, 'saltLength');
    else if (isContext(field, 3)) trailer = integerOf(inner, 'trailerField');
  }
  const hash = hashAlgorithmFromOid(hashOid);
  if (hash === undefined || hash === 'SHAKE256') throw new CmsError('cms-unsupported-algorithm', `PSS hash ${hashOid}`);
  // node:crypto always uses MGF1 with the signature hash; other combinations are not seen in practice.
  if (mgfHashOid !== hashOid) throw new CmsError('cms-unsupported-algorithm', 'PSS with an MGF1 hash different from the hash');
  if (trailer !== 1) throw new CmsError('cms-unsupported-algorithm', `PSS trailerField ${trailer}`);
  return { family: 'RSASSA-PSS', hash, saltLength };
}

function algorithmOid(block: Block | undefined): string {
  return oidOf(children(block, 'AlgorithmIdentifier')[0], 'AlgorithmIdentifier.algorithm');
}

function checkMessageDigest(signer: ParsedSignerInfo, data: readonly Uint8Array[] | undefined): CheckOutcome {
  const expected = signer.signedAttributes?.messageDigest;
  if (expected === undefined) return 'absent';
  const hash = signer.digestAlgorithm.name;
  if (data === undefined || hash === undefined) return 'not-checked';
  return bytesEqual(expected, digest(hash, data)) ? 'match' : 'mismatch';
}

/**
 * RFC 5035 §5.4 / RFC 2634 §5.4: the first ESSCertID(v2) identifies the signer certificate: its hash
 * must match, and when IssuerSerial is present it must name that certificate.
 */
function checkSigningCertificate(signer: ParsedSignerInfo, certificate: Uint8Array): CheckOutcome {
  const attrs = signer.signedAttributes;
  const first: EssCertId | undefined = attrs?.signingCertificateV2?.[0] ?? attrs?.signingCertificate?.[0];
  if (first === undefined) return 'absent';
  if (first.hashAlgorithm === undefined) return 'not-checked';
  if (!bytesEqual(first.certHash, digest(first.hashAlgorithm, certificate))) return 'mismatch';
  if (first.issuerSerial !== undefined) {
    let fields;
    try {
      fields = certificateFields(certificate);
    } catch {
      return 'not-checked';
    }
    if (!bytesEqual(integerValue(fields.serialNumber), first.issuerSerial.serialNumber)) return 'mismatch';
    if (!first.issuerSerial.issuers.some((issuer) => bytesEqual(issuer, fields.issuer))) return 'mismatch';
  }
  return 'match';
}
