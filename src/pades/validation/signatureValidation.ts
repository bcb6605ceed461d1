/**
 * Validation of one PDF signature or document timestamp (ETSI EN 319 102-1 §5: format, integrity,
 * identification of the signing certificate, X.509 validation, cryptographic constraints), given the
 * ByteRange analysis. The change analysis is added afterwards by validatePdf.
 */
import type { X509Certificate } from 'node:crypto';
import {
  CmsError,
  OID_KP_TIME_STAMPING,
  certificateMatchesSid,
  checkTimeStampingCertificate,
  digest,
  oids,
  parseSignedData,
  verifySignerInfo,
  type HashAlgorithm,
  type ParsedSignedData,
} from '../../cms/index.ts';
import { CertificatePool, DEFAULT_CLOCK_SKEW_MS, pathProblems } from '../../pki/index.ts';
import type { ByteRangeAnalysis } from './byteRange.ts';
import { bytesEqual } from './objectGraph.ts';
import { buildTrustedChain, certificatePolicyCheck, chainCheck, chainCryptoProblems, keySizeProblem, keyUsageCheck, revocationCheck, toX509, validityCheck } from './certificateChecks.ts';
import type { ValidationPolicy } from './policy.ts';
import type { RevocationSource, TimestampVerifier } from './ports.ts';
import type { CheckResult, SignatureType } from './report.ts';
import { readTstInfo } from './tstInfo.ts';

export interface SignatureInput {
  type: SignatureType;
  subFilter: string | null;
  bytes: Uint8Array;
  structure: ByteRangeAnalysis;
  pool: CertificatePool;
  dssCertificates: readonly Uint8Array[];
  embeddedRevocation: { ocsps: Uint8Array[]; crls: Uint8Array[] };
  anchors: readonly X509Certificate[];
  policy: ValidationPolicy;
  timestampVerifier?: TimestampVerifier;
  revocationSource?: RevocationSource;
  now: Date;
  /** Earliest genTime of later, usable document timestamps (POE for this signature), if any. */
  laterPoe: Date | null;
}

export interface SignatureOutcome {
  checks: CheckResult[];
  signer: X509Certificate | null;
  timestampTime: Date | null;
  bestTime: Date;
  bestFromPoe: boolean;
  /** For document timestamps: integrity verified and chain trusted, so genTime is a POE. */
  usableAsPoe: boolean;
}

const failed = (
  name: CheckResult['name'],
  detail: string,
  indication: 'TOTAL-FAILED' | 'INDETERMINATE',
  subIndication: NonNullable<CheckResult['subIndication']>,
): CheckResult => ({ name, status: 'failed', detail, indication, subIndication });

export async function validateSignature(input: SignatureInput): Promise<SignatureOutcome> {
  const { structure, policy } = input;
  const checks: CheckResult[] = [...structure.checks];
  const out: SignatureOutcome = { checks, signer: null, timestampTime: null, bestTime: input.now, bestFromPoe: false, usableAsPoe: false };
  if (!structure.ok || !structure.byteRange || !structure.contents) return out;
  const [, a1, b0, b1] = structure.byteRange;
  const signedContent = [input.bytes.subarray(0, a1), input.bytes.subarray(b0, b0 + b1)];

  let cms: ParsedSignedData;
  try {
    cms = parseSignedData(structure.contents);
  } catch (e) {
    if (!(e instanceof CmsError)) throw e;
    checks.push(failed('cms-structure', `/Contents is not a usable CMS SignedData: ${e.message}`, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  if (cms.signerInfos.length !== 1) {
    checks.push(failed('cms-structure', `${cms.signerInfos.length} SignerInfos; ISO 32000-1 §12.8.3.3.1 requires exactly one`, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  const isTs = input.type === 'document-timestamp';
  const isSha1Filter = input.subFilter === 'adbe.pkcs7.sha1';
  if (isTs && (cms.contentType !== oids.OID_TST_INFO || !cms.encapsulatedContent)) {
    checks.push(failed('cms-structure', 'a document timestamp must encapsulate a TSTInfo (RFC 3161 §2.4.2)', 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  if (!isTs && !isSha1Filter && cms.encapsulatedContent !== undefined) {
    // ISO 32000-1 §12.8.3.3.1: detached signatures carry no eContent; a reader could check the wrong thing.
    checks.push(failed('cms-structure', `${input.subFilter ?? 'detached'} signature with encapsulated content`, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  if (isSha1Filter && !cms.encapsulatedContent) {
    checks.push(failed('cms-structure', 'adbe.pkcs7.sha1 requires the SHA-1 digest as encapsulated content', 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  // RFC 5652 §5.3, §11.1: signed attributes carry a content-type equal to the eContentType signed.
  const signedType = cms.signedAttributes?.contentType;
  if (cms.signedAttributes !== undefined && signedType !== cms.contentType) {
    checks.push(failed('cms-structure', signedType === undefined ? 'signed attributes without content-type (RFC 5652 §5.3)' : `content-type attribute ${signedType} differs from eContentType ${cms.contentType} (RFC 5652 §11.1)`, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  checks.push({ name: 'cms-structure', status: 'passed', detail: `SignedData v${cms.signedDataVersion}, ${cms.certificates.length} certificate(s)` });

  // Signer certificate: in the CMS, else in the DSS (EN 319 142-1 §5.4.2).
  let signerDer = cms.signerCertificate;
  if (!signerDer) signerDer = input.dssCertificates.find((c) => certificateMatchesSid(c, cms.sid));
  const verification = isTs || isSha1Filter
    ? verifySignerInfo(cms, { signerCertificate: signerDer })
    : verifySignerInfo(cms, { content: signedContent, signerCertificate: signerDer });

  // Integrity: message digest (or TSTInfo imprint / sha1 eContent) against the signed ranges.
  if (verification.content === 'conflict') {
    checks.push(failed('message-digest', 'the encapsulated content differs from the ByteRange content', 'TOTAL-FAILED', 'HASH_FAILURE'));
    return out;
  }
  const md = verification.messageDigest;
  if (md === 'mismatch') {
    checks.push(failed('message-digest', 'message-digest does not match the signed bytes', 'TOTAL-FAILED', 'HASH_FAILURE'));
    return out;
  }
  if (md === 'not-checked') {
    checks.push(failed('message-digest', `digest algorithm ${cms.digestAlgorithm.oid} cannot be computed: integrity cannot be established`, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  if (md === 'absent' && cms.signedAttributes !== undefined) {
    checks.push(failed('message-digest', 'signed attributes without message-digest (RFC 5652 §5.3)', 'TOTAL-FAILED', 'FORMAT_FAILURE'));
    return out;
  }
  checks.push({ name: 'message-digest', status: 'passed', detail: md === 'match' ? `${cms.digestAlgorithm.name} over the signed content` : 'no signed attributes: the signature covers the content' });

  const hashes: string[] = [cms.digestAlgorithm.name ?? cms.digestAlgorithm.oid];
  let tsGenTime: Date | null = null;
  if (isTs || isSha1Filter) {
    const e = cms.encapsulatedContent as Uint8Array;
    if (isSha1Filter) {
      if (!bytesEqual(e, digest('SHA-1', signedContent))) {
        checks.push(failed('timestamp-imprint', 'adbe.pkcs7.sha1: the encapsulated SHA-1 digest does not match the signed bytes', 'TOTAL-FAILED', 'HASH_FAILURE'));
        return out;
      }
      hashes.push('SHA-1');
    } else {
      const tst = readTstInfo(e);
      if (typeof tst === 'string') {
        checks.push(failed('cms-structure', tst, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
        return out;
      }
      if (!tst.imprintAlgorithm) {
        checks.push(failed('timestamp-imprint', `imprint algorithm ${tst.imprintAlgorithmOid} unknown`, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
        return out;
      }
      if (!bytesEqual(tst.imprint, digest(tst.imprintAlgorithm, signedContent))) {
        checks.push(failed('timestamp-imprint', 'TSTInfo messageImprint does not match the signed bytes', 'TOTAL-FAILED', 'HASH_FAILURE'));
        return out;
      }
      hashes.push(tst.imprintAlgorithm);
      tsGenTime = tst.genTime;
      out.timestampTime = tst.genTime;
      checks.push({ name: 'timestamp-imprint', status: 'passed', detail: `${tst.imprintAlgorithm} imprint matches; genTime ${tst.genTime.toISOString()}` });
    }
  }

  if (verification.status === 'invalid') {
    checks.push(failed('signature-value', `the signature value does not verify (${verification.problem ?? 'invalid'}${verification.detail ? `: ${verification.detail}` : ''})`, 'TOTAL-FAILED', 'SIG_CRYPTO_FAILURE'));
    return out;
  }
  if (verification.status === 'indeterminate') {
    // A certificate that is present but cannot be decoded is a broken CMS, not a missing one.
    const noCert = verification.problem === 'signer-certificate-missing' && cms.signerCertificate === undefined;
    checks.push(
      failed(
        'signature-value',
        verification.detail ?? verification.problem ?? 'not verifiable',
        noCert ? 'INDETERMINATE' : 'TOTAL-FAILED',
        noCert ? 'NO_SIGNING_CERTIFICATE_FOUND' : 'FORMAT_FAILURE',
      ),
    );
    return out;
  }
  checks.push({ name: 'signature-value', status: 'passed', detail: verification.algorithm });

  const signer = toX509(signerDer as Uint8Array);
  if (!signer) {
    checks.push(failed('signing-certificate', 'the signer certificate cannot be parsed', 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'));
    return out;
  }
  out.signer = signer;
  const sc = verification.signingCertificate;
  if (sc === 'mismatch') {
    checks.push(failed('signing-certificate', 'signing-certificate(-v2) does not identify the signer certificate (RFC 5035 §5.4)', 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'));
  } else if (sc === 'match') {
    checks.push({ name: 'signing-certificate', status: 'passed', detail: 'ESS signing-certificate binds the signer certificate' });
  } else {
    const required = input.subFilter === 'ETSI.CAdES.detached';
    checks.push({ name: 'signing-certificate', status: 'warning', detail: sc === 'absent' ? `no signing-certificate attribute${required ? ' (required by EN 319 142-1 for ETSI.CAdES.detached)' : ''}` : 'signing-certificate not checked' });
  }

  // Cryptographic constraints (EN 319 102-1 §5.2.8): SHA-1 and short keys are not accepted.
  const cryptoProblems: string[] = [];
  for (const h of hashes) if (!input.policy.acceptedDigests.includes(h as HashAlgorithm)) cryptoProblems.push(`digest ${h} not accepted`);
  const ks = keySizeProblem(signer, policy);
  if (ks) cryptoProblems.push(ks);
  // The chain is built here for its algorithms; its trust is judged below.
  const { chain, anchored, trusted, check } = chainCheck(signer, input.pool, input.anchors, policy);
  cryptoProblems.push(...chainCryptoProblems(chain, anchored, policy));
  if (cryptoProblems.length === 0) checks.push({ name: 'crypto-constraints', status: 'passed', detail: `${verification.algorithm ?? ''}, key ${signer.publicKey.asymmetricKeyType}` });
  else if (policy.levels.cryptoConstraints === 'fail') checks.push(failed('crypto-constraints', cryptoProblems.join('; '), 'INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE'));
  else checks.push({ name: 'crypto-constraints', status: 'warning', detail: cryptoProblems.join('; ') });

  // Signature timestamps (B-T): through the port only; a verified genTime from a trusted TSA is a POE.
  // A signature may carry several (e.g. from two TSAs): each is looked at, the earliest POE is used
  // (EN 319 102-1 §5.6.2.1), as EU DSS does; a rejected one does not hide a good one.
  let sigTsPoe: Date | null = null;
  if (!isTs && cms.signatureTimeStampTokens.length > 0) {
    if (!input.timestampVerifier) {
      checks.push(
        policy.timestampsRequired
          ? failed('signature-timestamp', 'no timestamp verifier configured', 'INDETERMINATE', 'TRY_LATER')
          : { name: 'signature-timestamp', status: 'not-checked', detail: 'no timestamp verifier configured' },
      );
    } else {
      const tokens = cms.signatureTimeStampTokens.slice(0, MAX_SIGNATURE_TIMESTAMPS);
      const looks: Array<{ poe: Date | null; detail: string }> = [];
      for (const token of tokens) looks.push(await signatureTimestampLook(input, token as Uint8Array, cms));
      const used = looks.filter((l) => l.poe !== null).sort((a, b) => a.poe!.getTime() - b.poe!.getTime())[0];
      const all = cms.signatureTimeStampTokens.length;
      const several = all > 1 ? `${all} signature timestamps${all > tokens.length ? ` (the first ${tokens.length} looked at)` : ''}; ` : '';
      if (used) {
        sigTsPoe = used.poe;
        out.timestampTime = used.poe;
        const others = looks.filter((l) => l !== used).map((l) => l.detail);
        checks.push({ name: 'signature-timestamp', status: 'passed', detail: `${several}${used.detail}${others.length > 0 ? `; also: ${others.join('; ')}` : ''}` });
      } else {
        checks.push({ name: 'signature-timestamp', status: 'warning', detail: `${several}${looks.map((l) => l.detail).join('; ')}` });
      }
    }
  } else if (isTs && input.timestampVerifier) {
    const alg = imprintAlgorithmOf(structure.contents) ?? 'SHA-256';
    const r = await input.timestampVerifier.verify(structure.contents, { alg, digest: digest(alg, signedContent) });
    if (!r.ok) {
      // The CMS signature and the imprint verified above: what the verifier refuses is the TSA
      // certificate's profile, the ESS binding or the token's format, not the cryptography.
      const why = `document timestamp rejected by the timestamp verifier: ${r.problem ?? 'invalid'}`;
      const usage = signerDer ? checkTimeStampingCertificate(signerDer) : { ok: false };
      if (!usage.ok) {
        // Reported by the key-usage check below (RFC 3161 §2.3, with its policy level).
        checks.push({ name: 'signature-timestamp', status: 'warning', detail: why });
      } else if (verification.signingCertificate !== 'match') {
        checks.push(failed('signature-timestamp', `${why} (RFC 3161 §2.4.2: the token must bind the TSA certificate)`, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'));
      } else {
        checks.push(failed('signature-timestamp', why, 'TOTAL-FAILED', 'FORMAT_FAILURE'));
      }
    } else checks.push({ name: 'signature-timestamp', status: 'passed', detail: 'timestamp token verified' });
  }

  // Best signature time: earliest verified POE (EN 319 102-1 §5.6.2.1), else now. /M is only a claim.
  const poes = [sigTsPoe, input.laterPoe].filter((d): d is Date => d !== null);
  if (poes.length > 0) {
    out.bestTime = new Date(Math.min(...poes.map((d) => d.getTime())));
    out.bestFromPoe = true;
  }

  checks.push(check);
  checks.push(keyUsageCheck(signer, policy, isTs));
  const certificatePolicy = isTs ? undefined : certificatePolicyCheck(signer, policy);
  if (certificatePolicy) checks.push(certificatePolicy);
  const validity = validityCheck(chain, out.bestTime, out.bestFromPoe);
  checks.push(validity);
  const embedded = {
    ocsps: input.embeddedRevocation.ocsps,
    crls: [...input.embeddedRevocation.crls, ...cms.crls],
    certs: input.dssCertificates,
  };
  // A document timestamp's TSA status is needed when it stamped (genTime): the revocation data must be
  // fresh for genTime, and a revocation at or before the time it is relied on still counts, unless it
  // only retired an uncompromised key after genTime (RFC 3161 §4).
  const freshFrom = isTs && tsGenTime !== null && tsGenTime < out.bestTime ? tsGenTime : out.bestTime;
  const revocation = await revocationCheck(chain, trusted, out.bestTime, input.revocationSource, embedded, policy, {
    freshFrom,
    now: input.now,
    ...(isTs && tsGenTime !== null ? { retiredAfter: tsGenTime } : {}),
  });
  checks.push(revocation);
  // EN 319 102-1 Table 5: expired, no POE within its validity, but known not to be revoked.
  if (validity.subIndication === 'OUT_OF_BOUNDS_NO_POE' && revocation.status === 'passed' && onlySignerExpired(chain, out.bestTime)) {
    validity.subIndication = 'OUT_OF_BOUNDS_NOT_REVOKED';
    validity.detail = `${validity.detail ?? ''}; it is known not to be revoked`;
  }
  // EN 319 102-1 §5.6.2.3 (POE extraction): only a time-stamp whose validation passes gives a POE; one
  // that is INDETERMINATE (TSA status unknown, weak imprint digest, chain constraints…) does not.
  out.usableAsPoe = isTs && trusted && tsGenTime !== null && !checks.some((c) => c.status === 'failed');
  return out;
}

/** The signer certificate is expired at `at` and the rest of the chain is not. */
function onlySignerExpired(chain: readonly X509Certificate[], at: Date): boolean {
  const [leaf, ...rest] = chain;
  return leaf !== undefined && new Date(leaf.validTo) < at && rest.every((c) => new Date(c.validTo) >= at && new Date(c.validFrom) <= at);
}

/**
 * Whether a signature-time-stamp's genTime may serve as a proof of existence (EN 319 102-1 §5.4, as
 * document timestamps need): the TSA certificate chains to a trust anchor through a valid RFC 5280
 * path, it and its chain are valid at genTime, it is a time-stamping certificate (EKU id-kp-timeStamping,
 * RFC 3161 §2.3; key usage per policy), its imprint and CMS digests and the chain's algorithms and keys
 * are accepted by the policy (§5.6.2.3: the imprint hash must be reliable), and no certificate of the
 * chain is revoked up to the time the token is proven to exist (a later document timestamp, else now),
 * except a TSA retired after genTime for a reason that keeps its earlier tokens valid (RFC 3161 §4).
 * Revocation data must be fresh for genTime; an unknown status passes only when the policy does not
 * require revocation. `problem` is null when all hold.
 */
async function timestampAuthorityProblem(
  input: SignatureInput,
  token: Uint8Array,
  tsaDer: Uint8Array | undefined,
  genTime: Date,
  signature: ParsedSignedData,
): Promise<{ who: string; problem: string | null; summary: string }> {
  const tsa = tsaDer ? toX509(tsaDer) : null;
  if (!tsa) return { who: '(unknown)', problem: 'the TSA certificate is missing or cannot be parsed', summary: '' };
  const who = `"${tsa.subject.replace(/\n/g, ', ')}"`;
  const fail = (problem: string) => ({ who, problem, summary: '' });
  let tokenCrls: Uint8Array[] = [];
  const digests: Array<{ what: string; alg: string }> = [];
  // The signature's pool (anchors, DSS and CMS certificates) and, where it has no issuer, the token's own.
  const carried = new CertificatePool([tsa]);
  try {
    const parsed = parseSignedData(token);
    for (const der of parsed.certificates) {
      const c = toX509(der);
      if (c) carried.add(c);
    }
    tokenCrls = [...parsed.crls];
    const tst = parsed.encapsulatedContent ? readTstInfo(parsed.encapsulatedContent) : 'no TSTInfo';
    digests.push({ what: 'message imprint', alg: typeof tst === 'string' ? '(unreadable)' : (tst.imprintAlgorithm ?? tst.imprintAlgorithmOid) });
    digests.push({ what: 'token digest', alg: parsed.digestAlgorithm.name ?? parsed.digestAlgorithm.oid });
  } catch {
    /* the verifier accepted the token: it parses */
  }
  const { chain, trusted } = buildTrustedChain(tsa, input.pool, input.anchors, carried);
  if (!trusted) return fail(`no chain to a configured trust anchor (${input.anchors.length} configured)`);
  const path = pathProblems(chain, true);
  if (path.length > 0) return fail(`the chain is not a valid path: ${path.join('; ')}`);
  if (!(tsa.keyUsage ?? []).includes(OID_KP_TIME_STAMPING)) return fail('the certificate lacks extendedKeyUsage id-kp-timeStamping (RFC 3161 §2.3)');
  const ku = keyUsageCheck(tsa, input.policy, true);
  if (ku.status === 'failed') return fail(ku.detail ?? 'key usage not allowed');
  const weakDigests = digests.filter((d) => !input.policy.acceptedDigests.includes(d.alg)).map((d) => `${d.what} ${d.alg} not accepted`);
  const weak = [...weakDigests, keySizeProblem(tsa, input.policy), ...chainCryptoProblems(chain, true, input.policy)].filter((p): p is string => p !== null);
  if (weak.length > 0 && input.policy.levels.cryptoConstraints === 'fail') return fail(weak.join('; '));
  const validity = validityCheck(chain, genTime, true);
  if (validity.status !== 'passed') return fail(`not valid at genTime: ${validity.detail ?? ''}`);
  const embedded = {
    ocsps: input.embeddedRevocation.ocsps,
    crls: [...input.embeddedRevocation.crls, ...signature.crls, ...tokenCrls],
    certs: input.dssCertificates,
  };
  // The token is proven to exist at a later document timestamp, else only now: a TSA revoked before that
  // may have had its key compromised and the token dated at will, so the revocation counts up to then,
  // unless its reason says the key was only retired after genTime (RFC 3161 §4). Revocation data must be
  // fresh for genTime.
  const provenAt = new Date(Math.max(genTime.getTime(), (input.laterPoe ?? input.now).getTime()));
  const rev = await revocationCheck(chain, true, provenAt, input.revocationSource, embedded, input.policy, { freshFrom: genTime, now: input.now, retiredAfter: genTime });
  if (rev.status === 'failed') return fail(`revocation: ${rev.detail ?? rev.subIndication ?? 'failed'}`);
  return { who, problem: null, summary: `trusted chain of ${chain.length}, valid at genTime; revocation ${rev.status}${rev.detail ? ` (${rev.detail})` : ''}` };
}

function imprintAlgorithmOf(token: Uint8Array): HashAlgorithm | undefined {
  try {
    const e = parseSignedData(token).encapsulatedContent;
    if (!e) return undefined;
    const t = readTstInfo(e);
    return typeof t === 'string' ? undefined : t.imprintAlgorithm;
  } catch {
    return undefined;
  }
}

/** Signature timestamps of one signature that are looked at (each a verification and a TSA chain). */
const MAX_SIGNATURE_TIMESTAMPS = 8;

/** One signature-time-stamp token: its genTime as a POE (verified, TSA trusted, not in the future), or why not. */
async function signatureTimestampLook(input: SignatureInput, token: Uint8Array, cms: ParsedSignedData): Promise<{ poe: Date | null; detail: string }> {
  const alg = imprintAlgorithmOf(token) ?? 'SHA-256';
  let r: Awaited<ReturnType<TimestampVerifier['verify']>>;
  try {
    r = await input.timestampVerifier!.verify(token, { alg, digest: digest(alg, cms.signatureValue) });
  } catch (e) {
    // A verifier that throws (a library caller's) rejects this token, not the other ones.
    r = { ok: false, problem: e instanceof Error ? e.message : String(e) };
  }
  if (r.ok && r.genTime && r.genTime.getTime() > input.now.getTime() + DEFAULT_CLOCK_SKEW_MS) {
    // Validating as of a time the token did not exist yet (or a TSA clock far ahead): no POE then.
    return { poe: null, detail: `signature timestamp genTime ${r.genTime.toISOString()} is after the validation time ${input.now.toISOString()}; not used as proof of existence` };
  }
  if (r.ok && r.genTime) {
    // A verified token proves nothing by itself: its genTime is a POE only when the TSA is trusted.
    const tsa = await timestampAuthorityProblem(input, token, r.tsaCertificate, r.genTime, cms);
    if (tsa.problem === null) return { poe: r.genTime, detail: `genTime ${r.genTime.toISOString()}; TSA ${tsa.who}: ${tsa.summary}` };
    return {
      poe: null,
      detail: `signature timestamp (genTime ${r.genTime.toISOString()}) not used as proof of existence: TSA ${tsa.who}: ${tsa.problem}; the signature is validated at the validation time`,
    };
  }
  return { poe: null, detail: `signature timestamp rejected: ${r.problem ?? 'invalid'}; not used as proof of existence` };
}
