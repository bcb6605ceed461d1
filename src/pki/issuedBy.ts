/**
 * "`issuer` issued `cert`": names and key identifiers match (X509Certificate.checkIssued) and the
 * issuer's key verifies the certificate's signature. A pure function of the two certificates, asked
 * again for the same few pairs on every signature (chain building, the revocation checker's input
 * check), and the signature check is a public-key operation plus a KeyObject per call: remembered
 * per pair of certificate contents (SHA-256 fingerprints), bounded, oldest entry evicted first.
 */
import type { X509Certificate } from 'node:crypto';

const answers = new Map<string, boolean>();
const MAX_ANSWERS = 1024;

export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  const key = `${cert.fingerprint256}>${issuer.fingerprint256}`;
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
    if (answers.size >= MAX_ANSWERS) answers.delete(answers.keys().next().value!);
    answers.set(key, answer);
  }
  return answer;
}
