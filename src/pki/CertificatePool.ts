/**
 * A pool of known certificates (CA bundle, trust anchors, certificates found in CMS or a DSS) and
 * chain building over it (RFC 5280 §6 path construction: issuer name match, then the issuer's key
 * must verify the certificate's signature; AKI/SKI is left to node's checkIssued).
 */
import { X509Certificate } from 'node:crypto';
import { issuedBy } from './issuedBy.ts';

export class CertificatePool {
  private readonly bySubject = new Map<string, X509Certificate[]>();
  private readonly seen = new Set<string>();

  constructor(certificates: Iterable<X509Certificate> = []) {
    for (const c of certificates) this.add(c);
  }

  add(cert: X509Certificate): void {
    if (this.seen.has(cert.fingerprint256)) return;
    this.seen.add(cert.fingerprint256);
    const list = this.bySubject.get(cert.subject) ?? [];
    list.push(cert);
    this.bySubject.set(cert.subject, list);
  }

  get size(): number {
    return this.seen.size;
  }

  /** Candidate issuers of `cert` whose key verifies its signature. */
  issuersOf(cert: X509Certificate): X509Certificate[] {
    return (this.bySubject.get(cert.issuer) ?? []).filter((c) => issuedBy(cert, c));
  }

  /**
   * The chain from `leaf` up to a self-signed certificate or as far as the pool (and `also`) reaches,
   * leaf first. Depth-bounded; loops are impossible because a certificate is used once. Building a
   * chain decides no trust: the validator checks it against its anchors, and `pathProblems`
   * (pathValidation.ts) against RFC 5280 §6.1 (CA flags, path length, critical extensions, name constraints).
   */
  buildChain(leaf: X509Certificate, maxDepth = 10, also?: CertificatePool): X509Certificate[] {
    const chain = [leaf];
    const used = new Set([leaf.fingerprint256]);
    let current = leaf;
    while (chain.length <= maxDepth && !isSelfIssued(current)) {
      // The pool's own certificates first; `also` (say, those a CMS carries) where it has none.
      const candidates = [...this.issuersOf(current), ...(also?.issuersOf(current) ?? [])];
      const next = candidates.find((c) => !used.has(c.fingerprint256));
      if (!next) break;
      chain.push(next);
      used.add(next.fingerprint256);
      current = next;
    }
    return chain;
  }
}

export function isSelfIssued(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.checkIssued(cert);
}
