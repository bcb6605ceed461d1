/**
 * Adapters from the pki/tsa building blocks to the ports the PAdES layer and the validator use.
 */
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CertificatePool, RevocationError, type RevocationChecker } from '../pki/index.ts';
import type { RevocationMaterial, RevocationProvider, TimestampSource } from '../pades/index.ts';
import { STRICT_POLICY, type RevocationQuery, type RevocationSource, type RevocationStatus, type TimestampVerifier, type ValidationPolicy } from '../pades/validation/index.ts';
import {
  OID_KP_OCSP_SIGNING,
  OID_OCSP_NOCHECK,
  certIdMatches,
  crlScopeProblem,
  crlEntryFor,
  oids,
  parseCrl,
  parseOcspResponse,
  responderIdMatches,
  signatureHash,
  verifyCrlSignature,
  verifyOcspSignature,
  verifyTimeStampToken,
  type BasicOcspResponse,
  type ParsedCrl,
} from '../cms/index.ts';
import { certificateFields } from '../cms/certificateFields.ts';
import { bytesEqual } from '../cms/der.ts';
import { DEFAULT_CLOCK_SKEW_MS, KEY_NOT_COMPROMISED_REASONS, crlUrls, extendedKeyUsage, hasExtension, keyUsage } from '../pki/index.ts';
import { localTimestampSource, type TimeStampAuthority } from '../tsa/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';

/**
 * OCSP first, CRL fallback; the DER behind each answer is kept for the DSS. A delegated OCSP responder
 * without id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1) brings its issuer's CRL along: a validator must
 * establish the responder's own status, from the DSS alone if need be (`responderProblem`). When that
 * CRL cannot be had or does not say the responder is good, a "good" answer is not relied on: the
 * certificate's own CRL is used instead, and without it no source answered. A "revoked" answer stands
 * whatever its responder (fail closed: signing is refused, an extension embeds it).
 */
export function revocationProvider(checker: RevocationChecker, pool: CertificatePool): RevocationProvider {
  return {
    chain: (leaf, carried) => pool.buildChain(leaf, 10, carried && carried.length > 0 ? new CertificatePool(carried) : undefined),
    async revocation(cert, issuer): Promise<RevocationMaterial> {
      const s = await checker.check(cert, issuer);
      const responder = s.ocsp?.responderCert;
      if (!s.ocsp || !responder || responder.fingerprint256 === issuer.fingerprint256) {
        return { status: s.status, revocationTime: s.revocationTime, ...(s.reason ? { reason: s.reason } : {}), ocsp: s.ocsp?.responseDer, crl: s.crl?.crlDer, certs: [] };
      }
      // A delegated responder's certificate must be in the DSS to validate the response later.
      const answer = { status: s.status, revocationTime: s.revocationTime, ...(s.reason ? { reason: s.reason } : {}), ocsp: s.ocsp.responseDer, certs: [new Uint8Array(responder.raw)] };
      if (s.ocsp.responderNoCheck) return answer;
      const who = `the OCSP responder "${responder.subject.replace(/\n/g, ', ')}" (no id-pkix-ocsp-nocheck)`;
      let why: string;
      try {
        const own = await checker.crl.check(responder, issuer);
        if (own.status === 'good') return { ...answer, responderCrl: own.crlDer };
        why = `${who} is ${own.reason === 'certificateHold' ? 'on hold' : 'revoked'} on its issuer's CRL`;
      } catch (e) {
        if (!(e instanceof RevocationError) || e.code === 'revocation-invalid-input') throw e;
        why = `${who} has no usable CRL: ${e.message}`;
      }
      if (s.status === 'revoked') return answer;
      try {
        const c = await checker.crl.check(cert, issuer);
        return { status: c.status, revocationTime: c.revocationTime, ...(c.reason ? { reason: c.reason } : {}), crl: c.crlDer, certs: [] };
      } catch (e) {
        if (!(e instanceof RevocationError) || e.code === 'revocation-invalid-input') throw e;
        throw new RevocationError('revocation-unavailable', `no usable revocation data for serial ${cert.serialNumber}: ${why}, and the certificate's CRL: ${e.message}`, {
          details: { serialNumber: cert.serialNumber },
          cause: e,
        });
      }
    },
  };
}

/**
 * A delegated OCSP responder: issued by `issuer`, EKU id-kp-OCSPSigning (RFC 6960 §4.2.2.2), valid when
 * it answered. Its certificate is taken from the response's `certs`, else from `more` (the DSS /Certs,
 * where a B-LT document may keep it instead, EN 319 142-1 §5.4.2) when the responderID names it.
 */
function responderFor(basic: BasicOcspResponse, issuer: X509Certificate, more: readonly Uint8Array[] = []): X509Certificate | undefined {
  if (verifyOcspSignature(basic, issuer)) return issuer;
  const named = more.filter((der) => {
    try {
      return responderIdMatches(basic.responderId, der);
    } catch {
      return false;
    }
  });
  for (const der of [...basic.certs, ...named]) {
    try {
      const c = new X509Certificate(der);
      const produced = basic.producedAt.getTime();
      if (produced < Date.parse(c.validFrom) || produced > Date.parse(c.validTo)) continue;
      if (c.checkIssued(issuer) && c.verify(issuer.publicKey) && (extendedKeyUsage(c) ?? []).includes(OID_KP_OCSP_SIGNING) && verifyOcspSignature(basic, c)) return c;
    } catch {
      /* not a usable certificate */
    }
  }
  return undefined;
}

/** What of the validation policy applies to the revocation data itself. */
export interface RevocationDataPolicy {
  /** ValidationPolicy.acceptedDigests: a CRL or OCSP response signed over another digest does not count. */
  acceptedDigests: readonly string[];
  /** ValidationPolicy.revocation.required: an OCSP answer whose delegated responder's own status is unknown is then not used. */
  required: boolean;
}

function dataPolicyOf(p: Pick<ValidationPolicy, 'acceptedDigests' | 'revocation'>): RevocationDataPolicy {
  return { acceptedDigests: p.acceptedDigests, required: p.revocation.required };
}

const DEFAULT_DATA_POLICY = dataPolicyOf(STRICT_POLICY);

/** Revocation data as the validator passes it, with the DSS /Certs when it passes them. */
export interface EmbeddedRevocationData {
  ocsps: Uint8Array[];
  crls: Uint8Array[];
  /** Certificates a delegated OCSP responder's certificate may be found among (DSS /Certs). */
  certs?: readonly Uint8Array[];
}

export interface RevocationJudgement {
  /** Default: the strict policy's. */
  policy?: RevocationDataPolicy;
  /** More CRLs for delegated OCSP responders' own status only (fetched online; the embedded ones for an answer fetched online). */
  responderCrls?: readonly Uint8Array[];
  /** Filled with the delegated responders whose own status no CRL gave, for an online look-up. */
  unresolved?: X509Certificate[];
}

/**
 * Why a CRL or OCSP response signed with `alg` does not count under the policy (EN 319 102-1 §5.2.8:
 * an MD5- or SHA-1-signed answer can be forged by a collision, like a certificate), else undefined.
 */
function weakSignature(what: string, alg: Parameters<typeof signatureHash>[0], accepted: readonly string[]): string | undefined {
  if (alg.oid === oids.OID_ED25519 || alg.oid === oids.OID_ED448) return undefined;
  const hash = signatureHash(alg);
  if (hash !== undefined && accepted.includes(hash)) return undefined;
  return `${what} signed with ${hash ?? `algorithm ${alg.oid}`}, a digest the policy does not accept`;
}

/**
 * RFC 6960 §4.2.2.2.1: a delegated responder without id-pkix-ocsp-nocheck has its own status checked,
 * here against its issuer's CRLs (an OCSP answer about itself would prove nothing). Why its answer is
 * not used, or undefined. On hold (its status may still change), revoked at or before producedAt, or
 * revoked later for a compromise or no reason (a compromised key signs answers dated at will): not used. Status unknown: not used when the
 * policy requires revocation (as EU DSS, which requires revocation data for the certificate that signed
 * revocation data unless it carries id-pkix-ocsp-nocheck).
 */
function responderProblem(responder: X509Certificate, issuer: X509Certificate, producedAt: Date, crls: readonly Uint8Array[], now: Date, judging: RevocationJudgement): string | undefined {
  if (responder === issuer || hasExtension(responder, OID_OCSP_NOCHECK)) return undefined;
  const policy = judging.policy ?? DEFAULT_DATA_POLICY;
  // The CRL must be fresh for the time the responder answered.
  const r = embeddedRevocationStatus(responder, issuer, now, { ocsps: [], crls: [...crls] }, { freshFrom: producedAt, now }, { policy });
  const who = `an OCSP response whose delegated responder "${responder.subject.replace(/\n/g, ', ')}" has no id-pkix-ocsp-nocheck and`;
  const s = r.status;
  if (s?.status === 'good') return undefined;
  if (s?.status === 'revoked') {
    const held = s.reason === 'certificateHold';
    const when = s.revocationTime;
    if (!held && when && when > producedAt && s.reason !== undefined && KEY_NOT_COMPROMISED_REASONS.has(s.reason)) return undefined;
    return `${who} is ${held ? 'on hold' : 'revoked'}${when ? ` since ${iso(when)}` : ''}${s.reason && !held ? ` (${s.reason})` : ''} (RFC 6960 §4.2.2.2.1)`;
  }
  judging.unresolved?.push(responder);
  if (!policy.required) return undefined;
  return `${who} its own status is unknown (no usable CRL${r.setAside.length > 0 ? `: ${r.setAside.join('; ')}` : ''})`;
}

/** RFC 5280 §5.2.7 ExpiredCertsOnCRL: the CRL keeps entries of certificates that expired since that date. */
const OID_EXPIRED_CERTS_ON_CRL = '2.5.29.60';
/** RFC 6960 §4.4.4 archiveCutoff (a single response's extension): the responder keeps the status of certificates that expired since that date. */
const OID_OCSP_ARCHIVE_CUTOFF = '1.3.6.1.5.5.7.48.1.6';

/** What the embedded revocation data says, and why the data that said nothing usable was set aside. */
export interface EmbeddedRevocationAnswer {
  /** Undefined when no embedded answer is usable for the query. */
  status: RevocationStatus | undefined;
  /** One line per OCSP response or CRL that spoke for the certificate but was not usable. */
  setAside: string[];
}

const iso = (d: Date) => d.toISOString();

/** Age accepted for an answer without nextUpdate (RFC 6960 §4.2.2.1: "newer information is always available"). */
const MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 24 * 3600_000;

/**
 * EN 319 102-1 §5.2.5 freshness with no maximum age configured, where the accepted age is the data's
 * own nextUpdate − thisUpdate: the data is fresh for `t` when it was issued at or after `t`, or when
 * `t` is not after its nextUpdate (it was the current status information at `t`). An answer without
 * nextUpdate is fresh for `t` when issued at most MAX_AGE_WITHOUT_NEXT_UPDATE_MS before `t`.
 */
function freshProblem(thisUpdate: Date, nextUpdate: Date | undefined, t: Date, now: Date): string | undefined {
  if (thisUpdate.getTime() > now.getTime() + DEFAULT_CLOCK_SKEW_MS) return `thisUpdate ${iso(thisUpdate)} is after the validation time`;
  if (nextUpdate !== undefined && nextUpdate < thisUpdate) return `nextUpdate ${iso(nextUpdate)} is before thisUpdate`;
  if (thisUpdate >= t) return undefined;
  if (nextUpdate === undefined) {
    if (thisUpdate.getTime() + MAX_AGE_WITHOUT_NEXT_UPDATE_MS >= t.getTime()) return undefined;
    return `issued ${iso(thisUpdate)} without nextUpdate, more than 24 h before ${iso(t)}`;
  }
  if (nextUpdate >= t) return undefined;
  return `issued ${iso(thisUpdate)}, expired ${iso(nextUpdate)}, before ${iso(t)}`;
}

/**
 * Whether an answer issued at `issued` about `cert` still speaks for it: issued before the certificate
 * expired, or carrying a date (`oid`, a GeneralizedTime) from which its issuer keeps the status of
 * certificates that have expired, not after the certificate's notAfter. For a CRL that is
 * ExpiredCertsOnCRL (RFC 5280 §3.3, §5.2.7), for an OCSP answer archiveCutoff (RFC 6960 §4.4.4):
 * otherwise the issuer may have dropped a revoked certificate once it expired, and its silence or
 * "good" proves nothing.
 */
function keepsExpired(issued: Date, extensions: readonly { oid: string; value: Uint8Array }[], oid: string, cert: X509Certificate): boolean {
  const notAfter = new Date(cert.validTo);
  if (issued <= notAfter) return true;
  const ext = extensions.find((e) => e.oid === oid);
  if (!ext) return false;
  try {
    const t = asn1js.fromBER(Uint8Array.from(ext.value)).result;
    return t instanceof asn1js.GeneralizedTime && t.toDate() <= notAfter;
  } catch {
    return false;
  }
}

/**
 * Status of `cert` from embedded OCSP responses and CRLs (DSS, CMS). Only answers signed by the
 * issuer (or its delegated OCSP responder) count. A CRL must also be a complete CRL for the
 * certificate (issuer name, cRLSign, `crlScopeProblem`, no critical extension this code does not
 * process, so no delta CRL). Then:
 * - a `revoked` answer from any such source wins (revocation is final), whatever its age;
 * - a hold (reason certificateHold, RFC 5280 §5.3.1) is not final: it stands unless an answer issued
 *   after it no longer lists the certificate (the hold was lifted, removeFromCRL); it comes back as
 *   `revoked` with reason `certificateHold` and the earliest hold time;
 * - a `good` answer (an OCSP `good`, a CRL not listing the certificate) counts only if it is fresh for
 *   `query.freshFrom` (default `at`, see `freshProblem`), was not issued after the validation time,
 *   and, when issued after the certificate expired, only with ExpiredCertsOnCRL (CRL) or
 *   archiveCutoff (OCSP) covering it;
 * - no answer counts when signed over a digest the policy does not accept, nor an OCSP answer from a
 *   delegated responder whose own status rules it out (`responderProblem`).
 * A `revoked` answer keeps its RFC 5280 §5.3.1 reason: the validator keeps a TSA's earlier tokens when
 * it says the key was not compromised.
 */
export function embeddedRevocationStatus(
  cert: X509Certificate,
  issuer: X509Certificate,
  at: Date,
  embedded: EmbeddedRevocationData,
  query: RevocationQuery = {},
  judging: RevocationJudgement = {},
): EmbeddedRevocationAnswer {
  const freshFrom = query.freshFrom ?? at;
  const now = query.now ?? new Date();
  const accepted = (judging.policy ?? DEFAULT_DATA_POLICY).acceptedDigests;
  const revoked: Array<{ time: Date; reason: string | undefined; source: string }> = [];
  const holds: Array<{ since: Date; issued: Date; source: string }> = [];
  // When the newest answer that does not list the certificate was issued (fresh or not): a hold older
  // than it was lifted.
  let cleared = -Infinity;
  let good: string | undefined;
  const setAside: string[] = [];
  for (const der of embedded.ocsps) {
    try {
      const r = parseOcspResponse(der);
      if (!r.basic) continue;
      const single = r.basic.responses.find((x) => certIdMatches(x.certId, cert, issuer));
      if (!single) continue;
      const responder = responderFor(r.basic, issuer, embedded.certs);
      if (!responder) {
        setAside.push('an OCSP response not signed by the issuer or a valid delegated responder');
        continue;
      }
      const refused = weakSignature('an OCSP response', r.basic.signatureAlgorithm, accepted) ?? responderProblem(responder, issuer, r.basic.producedAt, [...embedded.crls, ...(judging.responderCrls ?? [])], now, judging);
      if (refused) {
        setAside.push(refused);
        continue;
      }
      if (r.basic.producedAt.getTime() > now.getTime() + DEFAULT_CLOCK_SKEW_MS) {
        setAside.push(`an OCSP response produced ${iso(r.basic.producedAt)}, after the validation time`);
        continue;
      }
      const st = single.certStatus;
      if (st.status === 'revoked') {
        if (st.reason === 'certificateHold') holds.push({ since: st.revocationTime, issued: single.thisUpdate, source: 'ocsp:embedded' });
        else revoked.push({ time: st.revocationTime, reason: st.reason, source: 'ocsp:embedded' });
        continue;
      }
      if (st.status === 'unknown') {
        setAside.push('an OCSP response saying "unknown"');
        continue;
      }
      const speaks = keepsExpired(single.thisUpdate, single.extensions, OID_OCSP_ARCHIVE_CUTOFF, cert);
      if (speaks) cleared = Math.max(cleared, single.thisUpdate.getTime());
      const problem = freshProblem(single.thisUpdate, single.nextUpdate, freshFrom, now);
      if (problem) setAside.push(`an OCSP response ${problem}`);
      else if (!speaks) setAside.push(`an OCSP response issued ${iso(single.thisUpdate)}, after the certificate expired (no archiveCutoff)`);
      else good ??= 'ocsp:embedded';
    } catch {
      /* an unreadable response speaks for nothing */
    }
  }
  const issuerName = certificateFields(new Uint8Array(issuer.raw)).subject;
  const issuerUsage = keyUsage(issuer);
  for (const der of embedded.crls) {
    try {
      const crl = parseCrl(der);
      if (!verifyCrlSignature(crl, issuer)) continue; // another CA's CRL
      const weak = weakSignature('a CRL', crl.signatureAlgorithm, accepted);
      if (weak) {
        setAside.push(weak);
        continue;
      }
      if (!bytesEqual(crl.issuer, issuerName)) {
        // RFC 5280 §5.1.2.3: the CA writes its name as in its certificates; names are compared as encoded.
        setAside.push("a CRL signed by the issuer whose issuer name is not encoded as the certificate's issuer");
        continue;
      }
      if (issuerUsage !== undefined && !issuerUsage.has('cRLSign')) {
        setAside.push('a CRL from an issuer whose keyUsage lacks cRLSign');
        continue;
      }
      if (crl.unhandledCriticalExtensions.length > 0) {
        setAside.push(`a CRL with critical extensions not processed (${crl.unhandledCriticalExtensions.join(', ')})`);
        continue;
      }
      const scope = crlScopeProblem(crl, cert, crlUrls(cert));
      if (scope) {
        setAside.push(`${scope}`);
        continue;
      }
      const entry = crlEntryFor(crl, cert);
      if (entry?.reason === 'certificateHold') {
        holds.push({ since: entry.revocationDate, issued: crl.thisUpdate, source: 'crl:embedded' });
        continue;
      }
      if (entry && entry.reason !== 'removeFromCRL') {
        revoked.push({ time: entry.revocationDate, reason: entry.reason, source: 'crl:embedded' });
        continue;
      }
      const speaks = keepsExpired(crl.thisUpdate, crl.extensions, OID_EXPIRED_CERTS_ON_CRL, cert);
      if (speaks) cleared = Math.max(cleared, crl.thisUpdate.getTime());
      const problem = freshProblem(crl.thisUpdate, crl.nextUpdate, freshFrom, now);
      if (problem) setAside.push(`a CRL ${problem}`);
      else if (!speaks) setAside.push(`a CRL issued ${iso(crl.thisUpdate)}, after the certificate expired (no ExpiredCertsOnCRL)`);
      else good ??= 'crl:embedded';
    } catch {
      /* idem */
    }
  }
  if (revoked.length > 0) {
    // The earliest revocation any valid source gives; one at or before `at` decides.
    const first = revoked.reduce((a, b) => (b.time < a.time ? b : a));
    return { status: { status: 'revoked', revocationTime: first.time, ...(first.reason ? { reason: first.reason } : {}), source: first.source }, setAside };
  }
  // Answers issued at the same time as the hold do not lift it.
  const standing = holds.filter((h) => h.issued.getTime() >= cleared);
  if (standing.length > 0) {
    const first = standing.reduce((a, b) => (b.since < a.since ? b : a));
    return { status: { status: 'revoked', reason: 'certificateHold', revocationTime: first.since, source: first.source }, setAside };
  }
  return { status: good ? { status: 'good', source: good } : undefined, setAside };
}

/**
 * The validator's revocation port: embedded material first (what a B-LT document carries), then
 * online OCSP/CRL when the policy allows fetching and nothing fresh is embedded. A `revoked` answer
 * comes back with its time and reason; the validator compares it with the time the status is needed
 * for. `checker` is given only where the policy allows online fetching; `policy` gives the digests
 * accepted for the data's signatures and whether revocation is required.
 */
export function validationRevocationSource(checker: RevocationChecker | undefined, policy: Pick<ValidationPolicy, 'acceptedDigests' | 'revocation'> = STRICT_POLICY): RevocationSource {
  const dataPolicy = dataPolicyOf(policy);
  /**
   * embeddedRevocationStatus; where a delegated responder's own status is unknown and fetching is
   * allowed, its issuer's CRL is fetched from its distribution point and the data judged again.
   */
  const judge = async (cert: X509Certificate, issuer: X509Certificate, at: Date, data: EmbeddedRevocationData, query: RevocationQuery, responderCrls: readonly Uint8Array[] = []) => {
    const unresolved: X509Certificate[] = [];
    const first = embeddedRevocationStatus(cert, issuer, at, data, query, { policy: dataPolicy, responderCrls, unresolved });
    if (!checker || unresolved.length === 0) return first;
    const fetched: Uint8Array[] = [];
    for (const responder of new Map(unresolved.map((c) => [c.fingerprint256, c])).values()) {
      try {
        fetched.push((await checker.crl.check(responder, issuer)).crlDer);
      } catch {
        /* no CRL: its status stays unknown */
      }
    }
    return fetched.length === 0 ? first : embeddedRevocationStatus(cert, issuer, at, data, query, { policy: dataPolicy, responderCrls: [...responderCrls, ...fetched] });
  };
  return {
    async status(cert, issuer, at, embedded: EmbeddedRevocationData, query = {}) {
      const local = await judge(cert, issuer, at, embedded, query);
      // A hold is not final: where the policy lets us ask, the current answer says whether it still stands.
      const held = local.status?.reason === 'certificateHold';
      if (local.status && !(held && checker)) return local.status;
      const why = local.setAside.length > 0 ? `embedded data set aside: ${local.setAside.join('; ')}` : 'no embedded revocation data for it';
      if (!checker) return { status: 'unavailable', detail: `${why}; no online source` };
      try {
        const s = await checker.check(cert, issuer);
        if (held && s.status === 'unknown') return local.status!;
        // The answer fetched is judged as embedded data is (an OCSP "good" after the certificate expired
        // without archiveCutoff, a hold…). It is current (its nextUpdate has not passed), so fresh for any past time.
        const der = s.ocsp?.responseDer ?? s.crl?.crlDer;
        const online = `${s.source}:online`;
        if (der) {
          const data = s.ocsp ? { ocsps: [der], crls: [], certs: embedded.certs } : { ocsps: [], crls: [der] };
          const judged = await judge(cert, issuer, at, data, query, embedded.crls);
          if (!judged.status) return held ? local.status! : { status: 'unavailable', detail: `${why}; online answer set aside: ${judged.setAside.join('; ')}` };
          return { ...judged.status, source: online };
        }
        return { status: s.status, revocationTime: s.revocationTime, ...(s.reason ? { reason: s.reason } : {}), source: online };
      } catch (err) {
        if (held) return local.status!;
        return { status: 'unavailable', detail: `${why}; online: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
  };
}

/** The validator's timestamp port over src/cms/tsp.ts. */
export const timestampVerifier: TimestampVerifier = {
  async verify(tokenDer, expected) {
    try {
      const v = verifyTimeStampToken(tokenDer, { messageImprint: { hashAlgorithm: expected.alg, hashedMessage: expected.digest } });
      return { ok: v.valid, genTime: v.tstInfo.genTime, tsaCertificate: v.tsaCertificate, problem: v.problems.join('; ') || undefined };
    } catch (err) {
      return { ok: false, problem: err instanceof Error ? err.message : String(err) };
    }
  },
};

/**
 * The built-in TSA as a TimestampSource, created on first use (it needs the HSM key, which may
 * connect after start).
 */
export function lazyLocalTimestampSource(getTsa: () => Promise<TimeStampAuthority>, defaultEstimate = 8192): TimestampSource {
  let estimate = defaultEstimate;
  return {
    get tokenSizeEstimate() {
      return estimate;
    },
    async timestamp(imprint: Uint8Array, digestAlgorithm: DigestAlgorithm) {
      const source = localTimestampSource(await getTsa());
      estimate = source.tokenSizeEstimate;
      return source.timestamp(imprint, digestAlgorithm);
    },
  };
}
