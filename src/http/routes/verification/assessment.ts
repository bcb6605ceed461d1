/**
 * The server's own look at a registered copy, in the spirit of OpenAttestation's three independent
 * verifications (document integrity, document status, issuer identity), each VALID / INVALID / ERROR:
 * - integrity: the stored PDF still hashes to the registered SHA-256 and its signatures' digests and
 *   values verify (EN 319 102-1 §5.2.7 cryptographic verification);
 * - status: issued and not annulled in the register (domain.md "Annulment");
 * - issuer: every signature chains to a configured trust anchor, with revocation and validity checked
 *   at the time proven by its timestamp (EN 319 102-1 §5.2.6, §5.6.2.1).
 * The signature validation is offline-first and cached per stored file, so a page view stays cheap;
 * the file itself is looked at again (size, mtime) at most every `recheckMs`, so a replaced file shows
 * within seconds without a stat on every page view.
 */
import { stat } from 'node:fs/promises';
import type { Context } from 'koa';
import type { PublicCopyView } from '../../../registry/index.ts';
import type { ValidationReport } from '../../../pades/validation/index.ts';
import { sha256File } from '../../../cms/index.ts';
import { validateDocument, type ValidationDeps } from '../../../services/validateDocument.ts';
import { fileKeyPath } from '../../../services/certifyCopy.ts';

export type CheckOutcome = 'VALID' | 'INVALID' | 'ERROR';

export type IntegrityReason = 'intact' | 'hash-differs' | 'signature-broken' | 'file-missing' | 'not-validated';
export type StatusReason = 'valid' | 'annulled' | 'not-found';
export type IssuerReason = 'trusted' | 'untrusted' | 'revoked' | 'indeterminate' | 'not-validated';

export interface Check<R extends string> {
  readonly outcome: CheckOutcome;
  readonly reason: R;
}

/** One signature or document timestamp of the stored copy, for the summary shown to verifiers. */
export interface SignatureSummary {
  readonly kind: 'signature' | 'document-timestamp';
  readonly signer: string | null;
  readonly signerIssuer: string | null;
  readonly indication: string;
  readonly subIndication: string | null;
  readonly timestampTime: string | null;
  readonly chainTrusted: boolean;
  /** The revocation check's status and its detail (e.g. "good (OCSP, from the DSS)"). */
  readonly revocation: { readonly status: string; readonly detail: string | null };
}

/** What the assessment needs from the register: the copy's status and the SHA-256 its file must have. */
export type RegisteredCopy = Pick<PublicCopyView, 'status' | 'pdfSha256'>;

export interface CopyAssessment {
  readonly integrity: Check<IntegrityReason>;
  readonly status: Check<StatusReason>;
  readonly issuer: Check<IssuerReason>;
  readonly signatures: readonly SignatureSummary[];
}

export function statusCheck(view: Pick<PublicCopyView, 'status'> | null): Check<StatusReason> {
  if (!view) return { outcome: 'INVALID', reason: 'not-found' };
  return view.status === 'valid' ? { outcome: 'VALID', reason: 'valid' } : { outcome: 'INVALID', reason: 'annulled' };
}

/** What one stored file says, derived once per file version (the page views only compare with the register). */
interface StoredFileFacts {
  readonly sha256: string;
  /** Null when the file could not be validated. */
  readonly validated: { readonly cryptoIntact: boolean; readonly issuer: Check<IssuerReason>; readonly signatures: readonly SignatureSummary[] } | null;
}


const CRYPTO_CHECKS = new Set(['message-digest', 'signature-value', 'byte-range', 'timestamp-imprint']);
const ISSUER_SUBINDICATIONS = new Set(['NO_CERTIFICATE_CHAIN_FOUND', 'CHAIN_CONSTRAINTS_FAILURE', 'NO_SIGNING_CERTIFICATE_FOUND']);
/** A signer or CA certificate revoked with no proof that the signature came before (EN 319 102-1 Table 5). */
const REVOKED_SUBINDICATIONS = new Set(['REVOKED', 'REVOKED_NO_POE', 'REVOKED_CA_NO_POE']);

export class CopyAssessor {
  /** Keyed by file path + size + mtime: a replaced file is looked at again. */
  private readonly cache = new Map<string, Promise<StoredFileFacts>>();
  /** The facts of a register file key, trusted without a stat until `until` (ms since the epoch); `known` once they are in. */
  private readonly recent = new Map<string, { until: number; facts: Promise<StoredFileFacts>; known?: StoredFileFacts }>();

  constructor(
    private readonly storeDir: string,
    private readonly validation: ValidationDeps | undefined,
    private readonly maxEntries = 1000,
    private readonly recheckMs = 5000,
  ) {}

  async assess(view: RegisteredCopy, fileKey: string): Promise<CopyAssessment> {
    const known = this.assessKnown(view, fileKey);
    if (known) return known;
    let facts: StoredFileFacts;
    try {
      facts = await this.facts(fileKey);
    } catch {
      return { status: statusCheck(view), integrity: { outcome: 'ERROR', reason: 'file-missing' }, issuer: { outcome: 'ERROR', reason: 'not-validated' }, signatures: [] };
    }
    return combine(view, facts);
  }

  /** The assessment when the file's facts are in and fresh, without waiting (most page views); else undefined: use `assess`. */
  assessKnown(view: RegisteredCopy, fileKey: string): CopyAssessment | undefined {
    const hit = this.recent.get(fileKey);
    return hit?.known && hit.until > Date.now() ? combine(view, hit.known) : undefined;
  }

  private facts(fileKey: string): Promise<StoredFileFacts> {
    const now = Date.now();
    const hit = this.recent.get(fileKey);
    if (hit && hit.until > now) return hit.facts;
    const file = fileKeyPath(this.storeDir, fileKey);
    const facts = file ? this.statFacts(file) : Promise.reject(new Error('file key outside the copy store'));
    const entry: { until: number; facts: Promise<StoredFileFacts>; known?: StoredFileFacts } = { until: now + this.recheckMs, facts };
    if (this.recent.size >= this.maxEntries) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(fileKey, entry);
    facts.then(
      (f) => (entry.known = f),
      () => this.recent.get(fileKey) === entry && this.recent.delete(fileKey),
    );
    return facts;
  }

  private async statFacts(file: string): Promise<StoredFileFacts> {
    const st = await stat(file);
    const key = `${file}|${st.size}|${st.mtimeMs}`;
    let entry = this.cache.get(key);
    if (!entry) {
      entry = this.compute(file);
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, entry);
      // A failure (e.g. the file vanished mid-read) is not remembered.
      entry.catch(() => this.cache.delete(key));
    }
    return entry;
  }

  private async compute(file: string): Promise<StoredFileFacts> {
    const sha256 = await sha256File(file);
    let report: ValidationReport | null = null;
    if (this.validation) {
      try {
        // A QR lookup waits for this: it goes ahead of uploaded files waiting for a worker.
        report = await validateDocument(this.validation, { path: file }, { urgent: true });
      } catch {
        report = null;
      }
    }
    if (!report) return { sha256, validated: null };
    const cryptoIntact = report.signatures.length > 0 && !report.signatures.some((s) => s.checks.some((c) => CRYPTO_CHECKS.has(c.name) && c.status === 'failed'));
    return { sha256, validated: { cryptoIntact, issuer: issuerCheck(report), signatures: summarise(report) } };
  }
}

/** The three checks from the register's view and what the stored file says. */
function combine(view: RegisteredCopy, facts: StoredFileFacts): CopyAssessment {
  const v = facts.validated;
  let integrity: Check<IntegrityReason>;
  if (facts.sha256 !== view.pdfSha256) integrity = HASH_DIFFERS;
  else if (!v) integrity = NOT_VALIDATED;
  else integrity = v.cryptoIntact ? INTACT : SIGNATURE_BROKEN;
  return { status: statusCheck(view), integrity, issuer: v?.issuer ?? ISSUER_NOT_VALIDATED, signatures: v?.signatures ?? [] };
}

const HASH_DIFFERS: Check<IntegrityReason> = { outcome: 'INVALID', reason: 'hash-differs' };
const NOT_VALIDATED: Check<IntegrityReason> = { outcome: 'ERROR', reason: 'not-validated' };
const SIGNATURE_BROKEN: Check<IntegrityReason> = { outcome: 'INVALID', reason: 'signature-broken' };
const INTACT: Check<IntegrityReason> = { outcome: 'VALID', reason: 'intact' };
const ISSUER_NOT_VALIDATED: Check<IssuerReason> = { outcome: 'ERROR', reason: 'not-validated' };

/** Per signature summary (kept with the file's facts): the answer's tail after the view, as UTF-8, per checks. */
const tails = new WeakMap<readonly SignatureSummary[], Map<string, Buffer>>();

/**
 * The JSON answer of a public lookup (GET /v/{code} for programs, GET /api/v1/public/copies/{code}):
 * the public view (its UTF-8 JSON bytes, as `findPublicJson` reads them), the three checks and the
 * signature summary. The tail after the view (checks and summary, the bulk of it) is encoded once
 * per file and checks, so a lookup copies bytes rather than serialising and encoding them again.
 */
export function publicCopyJson(viewJson: Buffer, a: CopyAssessment): Buffer {
  const checks = `{"integrity":${JSON.stringify(a.integrity)},"status":${JSON.stringify(a.status)},"issuer":${JSON.stringify(a.issuer)}}`;
  let byChecks = tails.get(a.signatures);
  if (byChecks === undefined) tails.set(a.signatures, (byChecks = new Map()));
  let tail = byChecks.get(checks);
  if (tail === undefined) {
    // A handful per file (a file's checks vary with the copy's status and the file's state).
    if (byChecks.size >= 16) byChecks.clear();
    byChecks.set(checks, (tail = Buffer.from(`,"checks":${checks},"signatures":${JSON.stringify(a.signatures)}}`)));
  }
  // The view is an object: its closing brace gives way to the tail.
  return Buffer.concat([viewJson.subarray(0, viewJson.length - 1), tail]);
}

/** The headers of a public lookup's JSON answer: not for caches. */
export const PUBLIC_JSON_HEADERS: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' };

/** Answers a public lookup with `publicCopyJson` (GET /v/{code} for programs and the public API). */
export function sendPublicCopyJson(ctx: Pick<Context, 'set' | 'body'>, viewJson: Buffer, a: CopyAssessment): void {
  ctx.set(PUBLIC_JSON_HEADERS);
  ctx.body = publicCopyJson(viewJson, a);
}

/** The issuer check of a copy from its file's validation: every signature trusted, or why not. */
export function issuerCheck(report: Pick<ValidationReport, 'signatures'> | null): Check<IssuerReason> {
  if (!report) return { outcome: 'ERROR', reason: 'not-validated' };
  const sigs = report.signatures;
  if (sigs.length === 0) return { outcome: 'INVALID', reason: 'untrusted' };
  if (sigs.some((s) => s.subIndication !== null && REVOKED_SUBINDICATIONS.has(s.subIndication))) return { outcome: 'INVALID', reason: 'revoked' };
  if (sigs.some((s) => s.subIndication !== null && ISSUER_SUBINDICATIONS.has(s.subIndication))) return { outcome: 'INVALID', reason: 'untrusted' };
  if (sigs.every((s) => s.indication === 'TOTAL-PASSED')) return { outcome: 'VALID', reason: 'trusted' };
  return { outcome: 'ERROR', reason: 'indeterminate' };
}

function summarise(report: ValidationReport): SignatureSummary[] {
  return report.signatures.map((s) => {
    const chain = s.checks.find((c) => c.name === 'certificate-chain');
    const rev = s.checks.find((c) => c.name === 'revocation');
    return {
      kind: s.type,
      signer: s.signerSubject,
      signerIssuer: s.signerIssuer,
      indication: s.indication,
      subIndication: s.subIndication,
      timestampTime: s.timestampTime,
      chainTrusted: chain?.status === 'passed',
      revocation: { status: rev?.status ?? 'not-checked', detail: rev?.detail ?? null },
    };
  });
}
