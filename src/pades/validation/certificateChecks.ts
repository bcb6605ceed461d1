/**
 * Identity checks of EN 319 102-1 §5.2.6 (X.509 certificate validation) kept to what a PAdES
 * validator needs: a chain to a configured trust anchor that is a valid RFC 5280 path, key usage,
 * cryptographic constraints on the chain, validity at the best signature time, and revocation through
 * the RevocationSource port.
 */
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { certificateSignatureAlgorithm, checkTimeStampingCertificate, oids, signatureHash } from '../../cms/index.ts';
import { CertificatePool, KEY_NOT_COMPROMISED_REASONS, certificatePolicies, extendedKeyUsage, pathProblems, timestampOrOcspOnly } from '../../pki/index.ts';
import type { ValidationPolicy } from './policy.ts';
import type { RevocationQuery, RevocationSource } from './ports.ts';
import type { CheckResult } from './report.ts';

export function toX509(der: Uint8Array): X509Certificate | null {
  try {
    return new X509Certificate(Buffer.from(der));
  } catch {
    return null;
  }
}

/** The chain leaf-first and whether it reaches one of the anchors (by fingerprint). */
export function buildTrustedChain(
  leaf: X509Certificate,
  pool: CertificatePool,
  anchors: readonly X509Certificate[],
  also?: CertificatePool,
): { chain: X509Certificate[]; trusted: boolean } {
  const fps = new Set(anchors.map((a) => a.fingerprint256));
  const chain = pool.buildChain(leaf, 10, also);
  const idx = chain.findIndex((c) => fps.has(c.fingerprint256));
  if (idx >= 0) return { chain: chain.slice(0, idx + 1), trusted: true };
  return { chain, trusted: false };
}

export function chainCheck(leaf: X509Certificate, pool: CertificatePool, anchors: readonly X509Certificate[], policy: ValidationPolicy) {
  const { chain, trusted } = buildTrustedChain(leaf, pool, anchors);
  const names = chain.map((c) => c.subject.replace(/\n/g, ', ')).join(' ← ');
  // A chain that reaches an anchor by names and signatures is a path only if RFC 5280 §6.1 holds for it.
  const problems = trusted ? pathProblems(chain, true) : [];
  const check: CheckResult = !trusted
    ? policy.levels.trust === 'fail'
      ? {
          name: 'certificate-chain',
          status: 'failed',
          detail: `no chain to a configured trust anchor (${anchors.length} configured); built: ${names}`,
          indication: 'INDETERMINATE',
          subIndication: 'NO_CERTIFICATE_CHAIN_FOUND',
        }
      : { name: 'certificate-chain', status: 'warning', detail: `no chain to a configured trust anchor; built: ${names}` }
    : problems.length === 0
      ? { name: 'certificate-chain', status: 'passed', detail: `chain of ${chain.length} to a trust anchor: ${names}` }
      : policy.levels.trust === 'fail'
        ? {
            name: 'certificate-chain',
            status: 'failed',
            detail: `chain to a trust anchor (${names}) is not a valid path: ${problems.join('; ')}`,
            indication: 'INDETERMINATE',
            subIndication: 'CHAIN_CONSTRAINTS_FAILURE',
          }
        : { name: 'certificate-chain', status: 'warning', detail: `chain to a trust anchor (${names}) is not a valid path: ${problems.join('; ')}` };
  return { chain, anchored: trusted, trusted: trusted && problems.length === 0, check };
}

/** RFC 5280 §4.2.1.3 keyUsage bits; null when the extension is absent (any use allowed). */
export function keyUsageBits(cert: X509Certificate): { digitalSignature: boolean; nonRepudiation: boolean } | null {
  const parsed = asn1js.fromBER(new Uint8Array(cert.raw));
  const c = new pkijs.Certificate({ schema: parsed.result });
  const ext = c.extensions?.find((e) => e.extnID === '2.5.29.15');
  if (!ext) return null;
  const bits = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result;
  if (!(bits instanceof asn1js.BitString)) return { digitalSignature: false, nonRepudiation: false };
  const v = bits.valueBlock.valueHexView;
  const first = v.length > 0 ? (v[0] as number) : 0;
  return { digitalSignature: (first & 0x80) !== 0, nonRepudiation: (first & 0x40) !== 0 };
}

/**
 * The policy's acceptable certificate policies (ValidationPolicy.acceptedCertificatePolicies): the
 * signer's certificate asserts one of them. Undefined when the policy accepts any.
 */
export function certificatePolicyCheck(cert: X509Certificate, policy: ValidationPolicy): CheckResult | undefined {
  const wanted = policy.acceptedCertificatePolicies;
  if (wanted.length === 0) return undefined;
  let asserted: string[];
  let unreadable: string | undefined;
  try {
    asserted = certificatePolicies(cert) ?? [];
  } catch (e) {
    asserted = []; // an extension that cannot be read asserts nothing
    unreadable = e instanceof Error ? e.message : String(e);
  }
  const hit = asserted.find((oid) => wanted.includes(oid));
  if (hit) return { name: 'certificate-policy', status: 'passed', detail: `certificate policy ${hit}` };
  const says = unreadable ? `a certificatePolicies extension that cannot be read (${unreadable})` : asserted.length > 0 ? `the policies ${asserted.join(', ')}` : 'no certificate policy';
  const detail = `the signer's certificate asserts ${says}, none of ${wanted.join(', ')} the validation policy accepts`;
  return { name: 'certificate-policy', status: 'failed', detail, indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' };
}

/** EN 319 102-1 §5.2.6: a signing key must allow digitalSignature or nonRepudiation (contentCommitment). */
export function keyUsageCheck(cert: X509Certificate, policy: ValidationPolicy, forTimestamp: boolean): CheckResult {
  let ku: ReturnType<typeof keyUsageBits>;
  try {
    ku = keyUsageBits(cert);
  } catch (e) {
    ku = { digitalSignature: false, nonRepudiation: false };
    void e;
  }
  if (ku === null || ku.digitalSignature || ku.nonRepudiation) {
    // RFC 3161 §2.3: a TSA certificate carries one critical extendedKeyUsage, timeStamping only.
    if (forTimestamp) {
      const usage = checkTimeStampingCertificate(new Uint8Array(cert.raw));
      if (!usage.ok) {
        const detail = `TSA certificate: ${usage.problem ?? 'not a time-stamping certificate'} (RFC 3161 §2.3)`;
        return policy.levels.keyUsage === 'fail'
          ? { name: 'key-usage', status: 'failed', detail, indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' }
          : { name: 'key-usage', status: 'warning', detail };
      }
    } else {
      // A TSA's or an OCSP responder's key does not sign documents (the rule signing applies too); an
      // extendedKeyUsage that cannot be read is refused as one.
      let purposes: string[] | undefined;
      try {
        purposes = extendedKeyUsage(cert);
      } catch {
        purposes = [];
      }
      if (timestampOrOcspOnly(purposes)) {
        const detail = 'extendedKeyUsage is time-stamping or OCSP signing only: not a certificate for signing documents';
        return policy.levels.keyUsage === 'fail'
          ? { name: 'key-usage', status: 'failed', detail, indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' }
          : { name: 'key-usage', status: 'warning', detail };
      }
    }
    return { name: 'key-usage', status: 'passed', detail: ku === null ? 'no keyUsage extension' : 'digitalSignature/nonRepudiation present' };
  }
  return policy.levels.keyUsage === 'fail'
    ? { name: 'key-usage', status: 'failed', detail: 'keyUsage has neither digitalSignature nor nonRepudiation', indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' }
    : { name: 'key-usage', status: 'warning', detail: 'keyUsage has neither digitalSignature nor nonRepudiation' };
}

/**
 * Validity at the best signature time (EN 319 102-1 §5.2.6, §5.6.2.1): before notBefore →
 * TOTAL-FAILED/NOT_YET_VALID (the signature existed before the certificate did); past notAfter →
 * INDETERMINATE/OUT_OF_BOUNDS_NO_POE, with or without a POE: a POE after notAfter proves the signature
 * existed then, not that it was made after expiry, which TOTAL-FAILED/EXPIRED would need (Table 5; as
 * EU DSS and pyHanko). `validateSignature` turns it into OUT_OF_BOUNDS_NOT_REVOKED when the signer
 * certificate is known not to be revoked.
 */
export function validityCheck(chain: readonly X509Certificate[], at: Date, fromPoe: boolean): CheckResult {
  for (const c of chain) {
    const nb = new Date(c.validFrom);
    const na = new Date(c.validTo);
    const who = c.subject.replace(/\n/g, ', ');
    if (at < nb) {
      return { name: 'certificate-validity', status: 'failed', detail: `${who} is not valid before ${nb.toISOString()}`, indication: 'TOTAL-FAILED', subIndication: 'NOT_YET_VALID' };
    }
    if (at > na) {
      const why = fromPoe ? `the earliest proof of existence (${at.toISOString()}) is after it` : 'no proof of existence predates it';
      return { name: 'certificate-validity', status: 'failed', detail: `${who} expired ${na.toISOString()} and ${why}`, indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' };
    }
  }
  return { name: 'certificate-validity', status: 'passed', detail: `valid at ${at.toISOString()}${fromPoe ? ' (timestamp)' : ' (validation time)'}` };
}

export interface RevocationCheckQuery extends RevocationQuery {
  /**
   * For a time-stamp's TSA chain, its genTime: a revocation after it (and at or before `at`) does not
   * count when its reason says the key was not compromised (RFC 3161 §4). Without a reason, or for a
   * compromise, it counts: a compromised key can date a token at any time.
   */
  retiredAfter?: Date;
}

/**
 * Revocation of every non-anchor certificate of the chain through the port, at `at` (the time the
 * status is needed for: the best signature time, or for a time-stamp's TSA the time its token is
 * proven to exist). `query.freshFrom` (default `at`) is the time the revocation data must be
 * fresh for, `query.now` the validation time. Revoked at or before `at`: INDETERMINATE/REVOKED_NO_POE
 * (a CA of the chain: REVOKED_CA_NO_POE), EN 319 102-1 §5.2.6 — nothing proves the signature was made
 * after the revocation, which TOTAL-FAILED/REVOKED would need. No usable (fresh, in-scope) answer →
 * INDETERMINATE/TRY_LATER when the policy requires revocation (fresher data may come later).
 */
export async function revocationCheck(
  chain: readonly X509Certificate[],
  trusted: boolean,
  at: Date,
  source: RevocationSource | undefined,
  embedded: { ocsps: Uint8Array[]; crls: Uint8Array[]; certs?: readonly Uint8Array[] },
  policy: ValidationPolicy,
  query: RevocationCheckQuery = {},
): Promise<CheckResult> {
  const soft = (detail: string): CheckResult =>
    policy.revocation.required
      ? { name: 'revocation', status: 'failed', detail, indication: 'INDETERMINATE', subIndication: 'TRY_LATER' }
      : { name: 'revocation', status: 'not-checked', detail };
  if (!source) return soft('no revocation source configured');
  const subjects = trusted ? chain.slice(0, -1) : chain.slice(0, Math.max(0, chain.length - 1));
  if (subjects.length === 0 || chain.length < 2) return soft('no issuer certificate to check revocation against');
  const { retiredAfter, ...portQuery } = query;
  const seen: string[] = [];
  for (let i = 0; i < subjects.length; i++) {
    const cert = subjects[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    const r = await source.status(cert, issuer, at, embedded, portQuery);
    const who = cert.subject.replace(/\n/g, ', ');
    if (r.status === 'revoked') {
      const when = r.revocationTime;
      const held = r.reason === 'certificateHold';
      // Revoked (or suspended) after the time proven for the signature: the signature predates it (§5.2.6.4).
      if (when && when > at) {
        seen.push(`${who}: ${held ? 'on hold from' : 'revoked'} ${when.toISOString()}, after ${at.toISOString()}${r.source ? ` (${r.source})` : ''}`);
        continue;
      }
      if (!held && when && retiredAfter && when > retiredAfter && r.reason !== undefined && KEY_NOT_COMPROMISED_REASONS.has(r.reason)) {
        seen.push(`${who}: retired (${r.reason}) ${when.toISOString()}, after genTime ${retiredAfter.toISOString()}: earlier tokens stay valid (RFC 3161 §4)${r.source ? ` (${r.source})` : ''}`);
        continue;
      }
      // Suspended (RFC 5280 §5.3.1 certificateHold): not final, the CA may lift it, so not revoked (as EU DSS).
      if (held) {
        return { name: 'revocation', status: 'failed', detail: `${who} on hold (certificateHold)${when ? ` since ${when.toISOString()}` : ''} (${r.source ?? 'source'}); its status may still change`, indication: 'INDETERMINATE', subIndication: 'TRY_LATER' };
      }
      const reason = r.reason ? `, ${r.reason}` : '';
      return {
        name: 'revocation',
        status: 'failed',
        detail: `${who} revoked${when ? ` at ${when.toISOString()}` : ''} (${r.source ?? 'source'}${reason}); no proof of existence before the revocation (needed for ${at.toISOString()})`,
        indication: 'INDETERMINATE',
        subIndication: i === 0 ? 'REVOKED_NO_POE' : 'REVOKED_CA_NO_POE',
      };
    }
    if (r.status !== 'good') {
      const why = r.detail ? `: ${r.detail}` : '';
      return soft(`${who}: status ${r.status}${r.source ? ` (${r.source})` : ''} for ${(query.freshFrom ?? at).toISOString()}${why}`);
    }
    seen.push(`${who}: good${r.source ? ` (${r.source})` : ''}`);
  }
  return { name: 'revocation', status: 'passed', detail: seen.join('; ') };
}

/**
 * EN 319 102-1 §5.2.8 for the chain, not only the signature: the digest of each certificate's signature
 * (an MD5- or SHA-1-signed certificate can be forged by a collision) and the key of each issuer, the
 * anchor included, since it verifies the next certificate.
 */
export function chainCryptoProblems(chain: readonly X509Certificate[], anchored: boolean, policy: ValidationPolicy): string[] {
  const out: string[] = [];
  chain.forEach((c, i) => {
    const who = `"${c.subject.replace(/\n/g, ', ')}"`;
    // The top certificate's self-signature (an anchor's, or an untrusted root's) proves nothing either way.
    if (!(i === chain.length - 1 && (anchored || c.subject === c.issuer))) {
      let alg: { oid: string } | undefined;
      try {
        alg = certificateSignatureAlgorithm(new Uint8Array(c.raw));
      } catch {
        alg = undefined;
      }
      const pure = alg?.oid === oids.OID_ED25519 || alg?.oid === oids.OID_ED448;
      const hash = alg && !pure ? signatureHash(alg as Parameters<typeof signatureHash>[0]) : undefined;
      if (!pure && (hash === undefined || !policy.acceptedDigests.includes(hash))) out.push(`${who} is signed with ${hash ?? `algorithm ${alg?.oid ?? '(unreadable)'}`}, not accepted`);
    }
    if (i > 0) {
      let ks: string | null;
      try {
        ks = keySizeProblem(c, policy);
      } catch {
        ks = 'key cannot be read';
      }
      if (ks) out.push(`issuer ${who}: ${ks}`);
    }
  });
  return out;
}

/** Key sizes per policy (EN 319 102-1 §5.2.8, ETSI TS 119 312). */
export function keySizeProblem(cert: X509Certificate, policy: ValidationPolicy): string | null {
  const k = cert.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss') {
    const bits = d.modulusLength ?? 0;
    return bits < policy.minRsaBits ? `RSA key of ${bits} bits (< ${policy.minRsaBits})` : null;
  }
  if (k.asymmetricKeyType === 'ec') {
    const m = /(\d{3})/.exec(d.namedCurve ?? '');
    const bits = m ? Number(m[1]) : 0;
    return bits < policy.minEcBits ? `EC key on ${d.namedCurve ?? 'unknown curve'} (< ${policy.minEcBits} bits)` : null;
  }
  return null;
}
