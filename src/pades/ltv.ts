/**
 * PAdES levels above B-B (ETSI EN 319 142-1 §6.3):
 *   B-T   signature-time-stamp unsigned attribute over the signature value (RFC 3161);
 *   B-LT  a DSS with every certificate, OCSP response and CRL needed for the signature and its
 *         timestamp, plus its VRI, in an incremental update;
 *   B-LTA a document timestamp after the DSS.
 * Time-stamping and revocation come in through two ports so the built-in TSA, an external TSA, OCSP
 * and CRLs plug in without this module knowing how.
 */
import { X509Certificate } from 'node:crypto';
import { digest as hashBytes, parseSignedData, signatureValueOf, addSignatureTimestamp, x509Certificate, type CrlReason } from '../cms/index.ts';
import { IncrementalUpdate, PdfDocument, PdfString } from '../pdf/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';
import { PadesError } from './errors.ts';
import { addToDss, type VriEntry } from './dss.ts';
import { appendUpdate, prepareSignature, type DocumentInput, type DocumentOutput, type SignedOutput } from './SigningSession.ts';

export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

export const LEVEL_ORDER: Record<PadesLevel, number> = { 'B-B': 0, 'B-T': 1, 'B-LT': 2, 'B-LTA': 3 };

/** A token as a TimestampSource hands it over: already checked against the imprint, with what the check read from it. */
export interface IssuedTimestamp {
  /** DER ContentInfo (SignedData). */
  token: Uint8Array;
  genTime: Date;
  /** DER certificate of the TSA that signed the token (carried in it). */
  tsaCertificate: Uint8Array;
  /** Every certificate the token carries (the TSA's chain, when the TSA sends it). */
  certificates?: readonly Uint8Array[];
}

/** Gets RFC 3161 tokens for a message imprint. */
export interface TimestampSource {
  timestamp(imprint: Uint8Array, digestAlgorithm: DigestAlgorithm): Promise<IssuedTimestamp>;
  /** Bytes to reserve in /Contents for one token (with its certificates). */
  readonly tokenSizeEstimate: number;
}

/** Revocation material for one certificate, from its issuer; throws a retryable error when no source answers. */
export interface RevocationMaterial {
  status: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  /** RFC 5280 reason of a `revoked` status (`certificateHold`: suspended). */
  reason?: CrlReason;
  ocsp?: Uint8Array;
  crl?: Uint8Array;
  /** Certificates needed to validate the response itself (delegated OCSP responder). */
  certs: Uint8Array[];
  /** The CRL that proves a delegated OCSP responder without id-pkix-ocsp-nocheck good (RFC 6960 §4.2.2.2.1). */
  responderCrl?: Uint8Array;
}
export interface RevocationProvider {
  revocation(cert: X509Certificate, issuer: X509Certificate): Promise<RevocationMaterial>;
  /**
   * Completes a chain from the pool of known CA certificates (leaf first), also from `carried` (the
   * certificates a CMS or its time-stamp tokens bring along) where the pool has no issuer.
   */
  chain(leaf: X509Certificate, carried?: readonly X509Certificate[]): X509Certificate[];
}

/**
 * The certificates a signature's validation material starts from, known to whoever just made it: the
 * DSS step then does not parse the CMS (and its tokens) again to find them.
 */
export interface KnownSigners {
  /** The CMS exactly as embedded (DER, without the /Contents padding): the key they are matched by. */
  cms: Uint8Array;
  signerCertificate: Uint8Array;
  /** The TSAs of its signature-time-stamp tokens. */
  timestampSigners: readonly Uint8Array[];
  /** Certificates the CMS and its tokens carry, to complete chains the configured CAs cannot. */
  carried?: readonly Uint8Array[];
}

/**
 * The B-T step: a signature-time-stamp over the SignerInfo signature value (EN 319 122-1 §5.3).
 * `onIssued` is told of the token (its time and TSA) before it is added.
 */
export function signatureTimestamper(ts: TimestampSource, digestAlgorithm: DigestAlgorithm = 'SHA-256', onIssued?: (issued: IssuedTimestamp) => void) {
  return async (cms: Uint8Array): Promise<Uint8Array> => {
    const issued = await ts.timestamp(hashBytes(digestAlgorithm, signatureValueOf(cms)), digestAlgorithm);
    onIssued?.(issued);
    return addSignatureTimestamp(cms, issued.token);
  };
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.subject === c.issuer && c.checkIssued(c);
}

/**
 * Validation material for a chain: every certificate, and for each non-root certificate its
 * revocation status from its issuer. A revoked certificate is named in `revoked` (the first one met)
 * and its evidence kept with the rest: the caller decides whether that refuses the document.
 */
export async function collectChainMaterial(
  leaf: X509Certificate,
  rev: RevocationProvider,
  seen = new Set<string>(),
  carried: readonly X509Certificate[] = [],
): Promise<{ certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[]; revoked?: RevokedCertificate }> {
  const chain = rev.chain(leaf, carried);
  const out: { certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[]; revoked?: RevokedCertificate } = { certs: [], ocsps: [], crls: [] };
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    out.certs.push(new Uint8Array(cert.raw));
    if (isSelfSigned(cert) || seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    const issuer = chain[i + 1];
    if (!issuer) {
      throw new PadesError('chain-incomplete', `no issuer certificate known for "${cert.subject.replace(/\n/g, ', ')}"`, { status: 422 });
    }
    const m = await rev.revocation(cert, issuer);
    if (m.ocsp) out.ocsps.push(m.ocsp);
    if (m.crl) out.crls.push(m.crl);
    if (m.responderCrl) out.crls.push(m.responderCrl);
    out.certs.push(...m.certs);
    // The responder's own certificate chain (delegated OCSP signer) is validated from the DSS too.
    if (m.status === 'revoked') out.revoked ??= { subject: cert.subject.replace(/\n/g, ', '), time: m.revocationTime, ...(m.reason ? { reason: m.reason } : {}) };
  }
  return out;
}

/**
 * The signer and the signature-time-stamp TSAs of a CMS, read from it, with every certificate the CMS
 * and its tokens carry (to complete chains whose CA the service does not know: someone else's
 * signature, an external TSA).
 */
function signersOf(cms: Uint8Array): Omit<KnownSigners, 'cms'> {
  const parsed = parseSignedData(cms);
  if (!parsed.signerCertificate) throw new PadesError('signer-certificate-missing', 'the CMS does not carry its signer certificate', { status: 422 });
  const timestampSigners: Uint8Array[] = [];
  const carried = [...parsed.certificates];
  for (const token of parsed.signatureTimeStampTokens ?? []) {
    const t = parseSignedData(token);
    if (t.signerCertificate) timestampSigners.push(t.signerCertificate);
    carried.push(...t.certificates);
  }
  return { signerCertificate: parsed.signerCertificate, timestampSigners, carried };
}

/**
 * Material for a signature or document timestamp CMS: signer chain + timestamp tokens' TSA chains.
 * `known`: the certificates, when the caller already has them for this very CMS (not parsed again).
 */
export async function collectSignatureMaterial(
  cms: Uint8Array,
  rev: RevocationProvider,
  known?: Omit<KnownSigners, 'cms'>,
): Promise<VriEntry & { revoked?: RevokedCertificate }> {
  const signers = known ?? signersOf(cms);
  // A CMS needs a handful of certificates; a hostile one may carry tens of thousands (each a parse).
  const carried = (signers.carried ?? []).slice(0, MAX_CARRIED_CERTIFICATES).flatMap((der) => {
    try {
      return [x509Certificate(der)];
    } catch {
      return []; // an unreadable certificate in someone's CMS completes nothing
    }
  });
  const material = { certs: [] as Uint8Array[], ocsps: [] as Uint8Array[], crls: [] as Uint8Array[] };
  const seen = new Set<string>();
  const add = async (leafDer: Uint8Array) => {
    const m = await collectChainMaterial(x509Certificate(leafDer), rev, seen, carried);
    material.certs.push(...m.certs);
    material.ocsps.push(...m.ocsps);
    material.crls.push(...m.crls);
    return m.revoked;
  };
  let revoked = await add(signers.signerCertificate);
  // Every TSA's material, whatever the signer's status: a revoked signer's signature may still hold,
  // proven by its time-stamp, and the validator needs that TSA's chain and revocation data for it.
  for (const tsa of signers.timestampSigners) {
    const r = await add(tsa);
    revoked ??= r;
  }
  return { ...material, contents: new Uint8Array(0), revoked };
}

/** A certificate found revoked while validation data was gathered. */
/**
 * Signatures and document timestamps one B-LT step gathers validation data for. Each costs a CMS
 * parse, a chain and revocation answers on the event loop; real documents carry a handful.
 */
export const MAX_SIGNATURES = 256;
/** Certificates a CMS and its time-stamp tokens carry that are looked at to complete chains. */
const MAX_CARRIED_CERTIFICATES = 64;

export interface RevokedCertificate {
  subject: string;
  time?: Date | undefined;
  /** RFC 5280 reason, when the source gave one (`certificateHold`: suspended, may be lifted). */
  reason?: CrlReason;
}

/** "is revoked since …" / "is on hold (suspended) since …", for the errors that refuse to sign. */
export function revokedPhrase(r: RevokedCertificate): string {
  const since = r.time ? ` since ${r.time.toISOString()}` : '';
  return r.reason === 'certificateHold' ? `is on hold (suspended)${since}` : `is revoked${since}`;
}

/**
 * B-LT: one incremental update adding a DSS (and VRI entries) for every signature and document
 * timestamp of the document, or, with `only`, for the one signature whose CMS is those exact bytes
 * (the signature just made, wherever its field sits in /Fields). `known`: signers the caller just
 * made (matched by their exact CMS bytes; any other signature is read from its CMS).
 * `revoked`: what a revoked certificate in a chain does. `refuse` (default, for a signature being
 * made) throws `certificate-revoked`; `embed` (extending signatures made earlier) puts the revocation
 * evidence in the DSS like any other — whether the signature still holds depends on when the
 * revocation happened against its time-stamps, which is the validator's judgement, not this step's —
 * and names the certificate in the result.
 */
export async function addValidationData(
  input: DocumentInput,
  output: DocumentOutput,
  rev: RevocationProvider,
  opts: { only?: Uint8Array; now?: Date; known?: readonly KnownSigners[]; revoked?: 'refuse' | 'embed' } = {},
): Promise<SignedOutput & { revoked: RevokedCertificate[] }> {
  const doc = PdfDocument.open('path' in input ? input.path : input.bytes);
  try {
    // One entry per CMS: fields sharing a signature dictionary (or carrying the same bytes) are one signature.
    const seen = new Set<string>();
    const signed = doc.signatureFields().flatMap((f) => {
      const contents = f.value?.get('Contents');
      const bytes = contents instanceof PdfString ? contents.bytes : undefined;
      if (f.value && !bytes) throw new PadesError('signature-malformed', `the signature of "${f.name}" has no /Contents`, { status: 422 });
      if (!bytes) return [];
      const der = bytes.subarray(0, derLength(bytes));
      const key = Buffer.from(hashBytes('SHA-256', der)).toString('hex');
      if (seen.has(key)) return [];
      seen.add(key);
      return [{ bytes, der }];
    });
    const targets = opts.only ? signed.filter((t) => equalBytes(t.der, opts.only!)) : signed;
    if (targets.length === 0) throw new PadesError('no-signature', 'the document has no signature to add validation data for', { status: 422 });
    if (targets.length > MAX_SIGNATURES) {
      throw new PadesError('pdf-limit-exceeded', `the document has ${targets.length} signatures and document timestamps; at most ${MAX_SIGNATURES} get validation data`, { status: 422 });
    }
    const all = { certs: [] as Uint8Array[], ocsps: [] as Uint8Array[], crls: [] as Uint8Array[] };
    const vri: VriEntry[] = [];
    const revoked: RevokedCertificate[] = [];
    for (const { bytes, der } of targets) {
      const m = await collectSignatureMaterial(der, rev, opts.known?.find((k) => equalBytes(k.cms, der)));
      if (m.revoked) {
        if (opts.revoked !== 'embed') {
          throw new PadesError('certificate-revoked', `the certificate "${m.revoked.subject}" ${revokedPhrase(m.revoked)}`, { status: 409, details: { reason: m.revoked.reason ?? null } });
        }
        revoked.push(m.revoked);
      }
      all.certs.push(...m.certs);
      all.ocsps.push(...m.ocsps);
      all.crls.push(...m.crls);
      vri.push({ ...m, contents: bytes, time: opts.now ?? new Date() });
    }
    const up = new IncrementalUpdate(doc);
    addToDss(up, doc, all, vri);
    const built = up.build();
    return { ...(await appendUpdate(input, output, built.bytes)), revoked };
  } finally {
    doc.close();
  }
}

/** B-LTA: a document timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161) over the whole file. */
export async function addDocumentTimestamp(
  input: DocumentInput,
  output: DocumentOutput,
  ts: TimestampSource,
  digestAlgorithm: DigestAlgorithm = 'SHA-256',
): Promise<SignedOutput & { token: Uint8Array }> {
  const doc = PdfDocument.open('path' in input ? input.path : input.bytes);
  try {
    const prepared = await prepareSignature(doc, input, output, {
      digestAlgorithm,
      signature: { subFilter: 'ETSI.RFC3161', reservedBytes: ts.tokenSizeEstimate },
    });
    try {
      const { token } = await ts.timestamp(prepared.digest, digestAlgorithm);
      const out = await prepared.embed(token);
      return { ...out, token };
    } catch (err) {
      await prepared.abort();
      throw err;
    }
  } finally {
    doc.close();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** DER length of the TLV at the start of `der` (the /Contents string is zero-padded). */
export function derLength(der: Uint8Array): number {
  if (der.length < 2) return der.length;
  const b = der[1]!;
  if (b < 0x80) return Math.min(der.length, 2 + b);
  const n = b & 0x7f;
  if (n === 0 || n > 4) return der.length;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] ?? 0);
  return Math.min(der.length, 2 + n + len);
}
