/**
 * Adapters from the pki/tsa building blocks to the ports the PAdES layer and the validator use.
 */
import { X509Certificate } from 'node:crypto';
import type { CertificatePool, RevocationChecker } from '../pki/index.ts';
import type { RevocationMaterial, RevocationProvider, TimestampSource } from '../pades/index.ts';
import type { RevocationSource } from '../pades/validation/index.ts';
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

/** The validator's revocation port over the online checker (embedded DSS material is read by the validator). */
export function onlineRevocationSource(checker: RevocationChecker): RevocationSource {
  return {
    async status(cert: X509Certificate, issuer: X509Certificate) {
      try {
        const s = await checker.check(cert, issuer);
        return { status: s.status, revocationTime: s.revocationTime, source: s.source };
      } catch {
        return { status: 'unavailable' };
      }
    },
  };
}

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
