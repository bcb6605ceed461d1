/**
 * Adapters from the pki/tsa building blocks to the ports the PAdES layer and the validator use.
 */
import { X509Certificate } from 'node:crypto';
import type { CertificatePool, RevocationChecker } from '../pki/index.ts';
import type { RevocationMaterial, RevocationProvider, TimestampSource } from '../pades/index.ts';
import type { RevocationSource, RevocationStatus, TimestampVerifier } from '../pades/validation/index.ts';
import {
  OID_KP_OCSP_SIGNING,
  certIdMatches,
  crlEntryFor,
  parseCrl,
  parseOcspResponse,
  verifyCrlSignature,
  verifyOcspSignature,
  verifyTimeStampToken,
  type BasicOcspResponse,
} from '../cms/index.ts';
import { extendedKeyUsage } from '../pki/index.ts';
import { localTimestampSource, type TimeStampAuthority } from '../tsa/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';

/** OCSP first, CRL fallback; the DER behind each answer is kept for the DSS. */
export function revocationProvider(checker: RevocationChecker, pool: CertificatePool): RevocationProvider {
  return {
    chain: (leaf) => pool.buildChain(leaf),
    async revocation(cert, issuer): Promise<RevocationMaterial> {
      const s = await checker.check(cert, issuer);
      const certs: Uint8Array[] = [];
      const responder = s.ocsp?.responderCert;
      // A delegated responder's certificate must be in the DSS to validate the response later.
      if (responder && responder.fingerprint256 !== issuer.fingerprint256) certs.push(new Uint8Array(responder.raw));
      return {
        status: s.status,
        revocationTime: s.revocationTime,
        ocsp: s.ocsp?.responseDer,
        crl: s.crl?.crlDer,
        certs,
      };
    },
  };
}

/** A delegated OCSP responder: issued by `issuer`, EKU id-kp-OCSPSigning (RFC 6960 §4.2.2.2). */
function responderFor(basic: BasicOcspResponse, issuer: X509Certificate): X509Certificate | undefined {
  if (verifyOcspSignature(basic, issuer)) return issuer;
  for (const der of basic.certs) {
    try {
      const c = new X509Certificate(der);
      if (c.checkIssued(issuer) && c.verify(issuer.publicKey) && (extendedKeyUsage(c) ?? []).includes(OID_KP_OCSP_SIGNING) && verifyOcspSignature(basic, c)) return c;
    } catch {
      /* not a usable certificate */
    }
  }
  return undefined;
}

/** Status from embedded OCSP responses and CRLs (DSS, CMS) whose signatures verify; undefined when none speaks for `cert`. */
export function embeddedRevocationStatus(
  cert: X509Certificate,
  issuer: X509Certificate,
  at: Date,
  embedded: { ocsps: Uint8Array[]; crls: Uint8Array[] },
): RevocationStatus | undefined {
  for (const der of embedded.ocsps) {
    try {
      const r = parseOcspResponse(der);
      if (!r.basic) continue;
      const single = r.basic.responses.find((x) => certIdMatches(x.certId, cert, issuer));
      if (!single || !responderFor(r.basic, issuer)) continue;
      const st = single.certStatus;
      if (st.status === 'revoked') return { status: st.revocationTime <= at ? 'revoked' : 'good', revocationTime: st.revocationTime, source: 'ocsp:embedded' };
      return { status: st.status, source: 'ocsp:embedded' };
    } catch {
      /* an unreadable response speaks for nothing */
    }
  }
  for (const der of embedded.crls) {
    try {
      const crl = parseCrl(der);
      if (!verifyCrlSignature(crl, issuer)) continue;
      const entry = crlEntryFor(crl, cert);
      if (entry && entry.reason !== 'removeFromCRL') {
        return { status: entry.revocationDate <= at ? 'revoked' : 'good', revocationTime: entry.revocationDate, source: 'crl:embedded' };
      }
      return { status: 'good', source: 'crl:embedded' };
    } catch {
      /* idem */
    }
  }
  return undefined;
}

/**
 * The validator's revocation port: embedded material first (what a B-LT document carries), then
 * online OCSP/CRL when the policy allows fetching.
 */
export function validationRevocationSource(checker: RevocationChecker | undefined): RevocationSource {
  return {
    async status(cert, issuer, at, embedded) {
      const local = embeddedRevocationStatus(cert, issuer, at, embedded);
      if (local) return local;
      if (!checker) return { status: 'unavailable' };
      try {
        const s = await checker.check(cert, issuer);
        const revoked = s.status === 'revoked' && (s.revocationTime === undefined || s.revocationTime <= at);
        return { status: s.status === 'revoked' && !revoked ? 'good' : s.status, revocationTime: s.revocationTime, source: `${s.source}:online` };
      } catch {
        return { status: 'unavailable' };
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
