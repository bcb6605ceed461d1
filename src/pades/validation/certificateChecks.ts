/**
 * Identity checks of EN 319 102-1 §5.2.6 (X.509 certificate validation) kept to what a PAdES
 * validator needs: a chain to a configured trust anchor, key usage, validity at the best signature
 * time, and revocation through the RevocationSource port.
 */
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertificatePool } from '../../pki/index.ts';
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
  const check: CheckResult = trusted
    ? { name: 'certificate-chain', status: 'passed', detail: `chain of ${chain.length} to a trust anchor: ${names}` }
    : policy.levels.trust === 'fail'
      ? {
          name: 'certificate-chain',
          status: 'failed',
          detail: `no chain to a configured trust anchor (${anchors.length} configured); built: ${names}`,
          indication: 'INDETERMINATE',
          subIndication: 'NO_CERTIFICATE_CHAIN_FOUND',
        }
      : { name: 'certificate-chain', status: 'warning', detail: `no chain to a configured trust anchor; built: ${names}` };
  return { chain, trusted, check };
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
    // RFC 3161 §2.3: a TSA certificate must carry the timeStamping extended key usage.
    if (forTimestamp) {
      const eku = cert.keyUsage ?? [];
      if (!eku.includes('1.3.6.1.5.5.7.3.8')) {
        return policy.levels.keyUsage === 'fail'
          ? { name: 'key-usage', status: 'failed', detail: 'the TSA certificate lacks extendedKeyUsage timeStamping (RFC 3161 §2.3)', indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' }
          : { name: 'key-usage', status: 'warning', detail: 'the TSA certificate lacks extendedKeyUsage timeStamping' };
      }
    }
    return { name: 'key-usage', status: 'passed', detail: ku === null ? 'no keyUsage extension' : 'digitalSignature/nonRepudiation present' };
  }
  return policy.levels.keyUsage === 'fail'
    ? { name: 'key-usage', status: 'failed', detail: 'keyUsage has neither digitalSignature nor nonRepudiation', indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' }
    : { name: 'key-usage', status: 'warning', detail: 'keyUsage has neither digitalSignature nor nonRepudiation' };
}

/**
 * Validity at the best signature time (EN 319 102-1 §5.2.6.4 / §5.6.2.1): past notAfter with a POE
 * proving the signature came after expiry → TOTAL-FAILED/EXPIRED; past notAfter without a POE (best
 * time is "now") → INDETERMINATE/OUT_OF_BOUNDS_NO_POE; before notBefore → TOTAL-FAILED/NOT_YET_VALID.
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
      return fromPoe
        ? { name: 'certificate-validity', status: 'failed', detail: `${who} expired ${na.toISOString()}, before the time proven by a timestamp`, indication: 'TOTAL-FAILED', subIndication: 'EXPIRED' }
        : { name: 'certificate-validity', status: 'failed', detail: `${who} expired ${na.toISOString()} and no proof of existence predates it`, indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' };
    }
  }
  return { name: 'certificate-validity', status: 'passed', detail: `valid at ${at.toISOString()}${fromPoe ? ' (timestamp)' : ' (validation time)'}` };
}

/**
 * Revocation of every non-anchor certificate of the chain through the port, at `at` (the time the
 * status is needed for). `query.freshFrom` (default `at`) is the time the revocation data must be
 * fresh for, `query.now` the validation time. No usable (fresh, in-scope) answer → INDETERMINATE /
 * TRY_LATER when the policy requires revocation (EN 319 102-1 §5.2.6.4: fresher data may come later).
 */
export async function revocationCheck(
  chain: readonly X509Certificate[],
  trusted: boolean,
  at: Date,
  source: RevocationSource | undefined,
  embedded: { ocsps: Uint8Array[]; crls: Uint8Array[] },
  policy: ValidationPolicy,
  query: RevocationQuery = {},
): Promise<CheckResult> {
  const soft = (detail: string): CheckResult =>
    policy.revocation.required
      ? { name: 'revocation', status: 'failed', detail, indication: 'INDETERMINATE', subIndication: 'TRY_LATER' }
      : { name: 'revocation', status: 'not-checked', detail };
  if (!source) return soft('no revocation source configured');
  const subjects = trusted ? chain.slice(0, -1) : chain.slice(0, Math.max(0, chain.length - 1));
  if (subjects.length === 0 || chain.length < 2) return soft('no issuer certificate to check revocation against');
  const seen: string[] = [];
  for (let i = 0; i < subjects.length; i++) {
    const cert = subjects[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    const r = await source.status(cert, issuer, at, embedded, query);
    const who = cert.subject.replace(/\n/g, ', ');
    if (r.status === 'revoked') {
      const when = r.revocationTime;
      const held = r.reason === 'certificateHold';
      // Revoked (or suspended) after the time proven for the signature: the signature predates it (§5.2.6.4).
      if (when && when > at) {
        seen.push(`${who}: ${held ? 'on hold from' : 'revoked'} ${when.toISOString()}, after ${at.toISOString()}${r.source ? ` (${r.source})` : ''}`);
        continue;
      }
      // Suspended (RFC 5280 §5.3.1 certificateHold): not final, the CA may lift it, so not REVOKED (as EU DSS).
      if (held) {
        return { name: 'revocation', status: 'failed', detail: `${who} on hold (certificateHold)${when ? ` since ${when.toISOString()}` : ''} (${r.source ?? 'source'}); its status may still change`, indication: 'INDETERMINATE', subIndication: 'TRY_LATER' };
      }
      return { name: 'revocation', status: 'failed', detail: `${who} revoked${when ? ` at ${when.toISOString()}` : ''} (${r.source ?? 'source'})`, indication: 'TOTAL-FAILED', subIndication: 'REVOKED' };
    }
    if (r.status !== 'good') {
      const why = r.detail ? `: ${r.detail}` : '';
      return soft(`${who}: status ${r.status}${r.source ? ` (${r.source})` : ''} for ${(query.freshFrom ?? at).toISOString()}${why}`);
    }
    seen.push(`${who}: good${r.source ? ` (${r.source})` : ''}`);
  }
  return { name: 'revocation', status: 'passed', detail: seen.join('; ') };
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
