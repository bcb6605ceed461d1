/**
 * validatePdf: every signature and document timestamp of a PDF (ETSI EN 319 102-1 indications), the
 * change analysis of every incremental update after the first signed revision, and a document-level
 * verdict. Hostile input ends in a report with `document.error`, never an exception from the parser.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { X509Certificate } from 'node:crypto';
import { PdfDocument, PdfError, PdfStream, PdfString, decodeStreamFully, type PdfDict, type PdfValue } from '../../pdf/index.ts';
import { parseSignedData } from '../../cms/index.ts';
import { CertificatePool, DEFAULT_CLOCK_SKEW_MS } from '../../pki/index.ts';
import { analyseByteRange, type ByteRangeAnalysis } from './byteRange.ts';
import { analyseRevision, timeLimitChange, type FieldLock } from './changeAnalysis.ts';
import { toX509 } from './certificateChecks.ts';
import { STRICT_POLICY, type ValidationPolicy } from './policy.ts';
import type { RevocationSource, TimestampVerifier } from './ports.ts';
import type { CheckResult, DocumentError, Indication, RevisionReport, SignatureReport, SubIndication, ValidationReport } from './report.ts';
import { validateSignature, type SignatureOutcome } from './signatureValidation.ts';

export interface ValidateOptions {
  policy?: ValidationPolicy;
  trustAnchors?: readonly X509Certificate[];
  timestampVerifier?: TimestampVerifier;
  revocationSource?: RevocationSource;
  /** Validation time; defaults to the current time. */
  now?: Date;
  /**
   * Longest the change analysis of the revisions may take (ms; a hostile file must not hold the
   * service). It counts from the start of the analysis, so the signatures' own checks (network fetches
   * included, which have their own timeouts) do not use it up. Revisions not analysed by then are
   * reported with a `time-limit` change, not allowed, so the document cannot pass.
   */
  analysisTimeLimitMs?: number;
}

export type ValidateInput = { path: string } | { bytes: Uint8Array };

interface Candidate {
  fieldName: string;
  sigNum: number | null;
  dict: PdfDict;
  type: SignatureReport['type'];
  structure: ByteRangeAnalysis;
  /** Set when the dictionary was present in an earlier revision only. */
  removedAfter: number | null;
  lock: FieldLock | null;
  docMdp: 1 | 2 | 3 | null;
}

/** Order of sub-indications when several checks fail with the same indication (most telling first). */
const SUB_ORDER: SubIndication[] = [
  'FORMAT_FAILURE',
  'HASH_FAILURE',
  'SIG_CRYPTO_FAILURE',
  'REVOKED',
  'EXPIRED',
  'NOT_YET_VALID',
  'NO_SIGNING_CERTIFICATE_FOUND',
  'NO_CERTIFICATE_CHAIN_FOUND',
  'CRYPTO_CONSTRAINTS_FAILURE',
  'CHAIN_CONSTRAINTS_FAILURE',
  'REVOKED_NO_POE',
  'REVOKED_CA_NO_POE',
  'OUT_OF_BOUNDS_NO_POE',
  'OUT_OF_BOUNDS_NOT_REVOKED',
  'REVOCATION_OUT_OF_BOUNDS_NO_POE',
  'SIG_CONSTRAINTS_FAILURE',
  'TRY_LATER',
  'SIGNED_DATA_NOT_FOUND',
];

/**
 * Most revisions (original + incremental updates) a validated file may have. Each later revision's
 * changes are analysed, so the work grows with the count; beyond this the file is refused with
 * `pdf-limit-exceeded` (its signatures fail), never passed unanalysed. Also the window of earlier
 * revisions searched for removed signatures below, so none goes unchecked.
 */
export const MAX_VALIDATED_REVISIONS = 64;
/** Signatures and document timestamps of one file (each is a CMS, a chain and revocation data to check). */
export const MAX_VALIDATED_SIGNATURES = 256;

export async function validatePdf(input: ValidateInput, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const policy = opts.policy ?? STRICT_POLICY;
  const now = opts.now ?? new Date();
  const source = 'path' in input ? path.basename(input.path) : '(bytes)';
  const bytes = 'path' in input ? new Uint8Array(readFileSync(input.path)) : input.bytes;
  const report: ValidationReport = {
    source,
    validationTime: now.toISOString(),
    policyName: policy.name,
    documentIndication: 'NO_SIGNATURE',
    document: { revisions: 0, size: bytes.length },
    signatures: [],
    revisions: [],
    errors: [],
  };
  // The xref chain is parsed once here; the per-revision views below (earlier signatures, change
  // analysis) reuse it instead of re-reading the whole /Prev chain each.
  let opened: { doc: PdfDocument; release: () => void };
  try {
    opened = PdfDocument.openShared(bytes);
  } catch (e) {
    if (!(e instanceof PdfError)) throw e;
    report.document.error = { code: e.code, message: e.message };
    if (e.code !== 'pdf-encrypted') reportUnreadableSignatures(bytes, report);
    return report;
  }
  try {
    return await validateOpened(bytes, opened.doc, report, opts, policy, now);
  } finally {
    opened.release();
  }
}

async function validateOpened(
  bytes: Uint8Array,
  doc: PdfDocument,
  report: ValidationReport,
  opts: ValidateOptions,
  policy: ValidationPolicy,
  now: Date,
): Promise<ValidationReport> {
  report.document.revisions = doc.revisions.length;
  // Every revision after the first signed one is analysed against the one before: bound the work.
  if (doc.revisions.length > MAX_VALIDATED_REVISIONS) {
    report.document.error = {
      code: 'pdf-limit-exceeded',
      message: `the file has ${doc.revisions.length} revisions; at most ${MAX_VALIDATED_REVISIONS} are validated`,
    };
    reportUnreadableSignatures(bytes, report, 'in a file with more revisions than are validated');
    return report;
  }
  let candidates: Candidate[];
  try {
    candidates = collectCandidates(bytes, doc, report.errors);
  } catch (e) {
    if (!(e instanceof PdfError)) throw e;
    report.document.error = { code: e.code, message: `cannot enumerate the signatures: ${e.message}` };
    return report;
  }
  if (candidates.length > MAX_VALIDATED_SIGNATURES) {
    report.document.error = {
      code: 'pdf-limit-exceeded',
      message: `the file has ${candidates.length} signatures and document timestamps; at most ${MAX_VALIDATED_SIGNATURES} are validated`,
    };
    reportUnreadableSignatures(bytes, report, 'in a file with more signatures than are validated');
    return report;
  }
  if (candidates.length === 0) return report;

  const anchors = [...(opts.trustAnchors ?? [])];
  const dss = readDss(doc, report.errors);
  const poolCerts: X509Certificate[] = [...anchors];
  for (const der of dss.certs) {
    const c = toX509(der);
    if (c) poolCerts.push(c);
  }

  // Later document timestamps provide proofs of existence for what they cover: validate newest first.
  const order = candidates
    .map((c, i) => ({ c, i }))
    .sort((x, y) => (y.c.structure.signedRevision ?? -1) - (x.c.structure.signedRevision ?? -1));
  const outcomes = new Map<number, SignatureOutcome>();
  const poes: Array<{ revision: number; time: Date }> = [];
  for (const { c, i } of order) {
    const pool = new CertificatePool(poolCerts);
    addCmsCertificates(c.structure.contents, pool);
    const rev = c.structure.signedRevision;
    const later = rev === null ? [] : poes.filter((p) => p.revision > rev).map((p) => p.time.getTime());
    const outcome = await validateSignature({
      type: c.type,
      subFilter: c.dict.getName('SubFilter') ?? null,
      bytes,
      structure: c.structure,
      pool,
      dssCertificates: dss.certs,
      embeddedRevocation: { ocsps: dss.ocsps, crls: dss.crls },
      anchors,
      policy,
      timestampVerifier: opts.timestampVerifier,
      revocationSource: opts.revocationSource,
      now,
      laterPoe: later.length > 0 ? new Date(Math.min(...later)) : null,
    });
    if (c.removedAfter !== null) {
      outcome.checks.unshift({
        name: 'signature-dictionary',
        status: 'failed',
        detail: `the signature dictionary of revision ${c.removedAfter} is missing or replaced in the latest revision`,
        indication: 'TOTAL-FAILED',
        subIndication: 'FORMAT_FAILURE',
      });
    }
    // A document timestamp dated after the validation time (beyond the clock skew tolerated) proves nothing at that time.
    const inTime = outcome.timestampTime !== null && outcome.timestampTime.getTime() <= now.getTime() + DEFAULT_CLOCK_SKEW_MS;
    if (outcome.usableAsPoe && inTime && rev !== null) poes.push({ revision: rev, time: outcome.timestampTime as Date });
    outcomes.set(i, outcome);
  }

  // Change analysis of every update after the first signed revision.
  const deadline = opts.analysisTimeLimitMs === undefined ? undefined : Date.now() + opts.analysisTimeLimitMs;
  const signedRevs = candidates.map((c) => c.structure.signedRevision).filter((r): r is number => r !== null);
  const firstSigned = signedRevs.length > 0 ? Math.min(...signedRevs) : null;
  for (const rev of doc.revisions) {
    const r: RevisionReport = { index: rev.index, endOffset: rev.endOffsetWithEol, signedBy: [], analysed: false, changes: [], verdict: 'not-analysed' };
    if (firstSigned !== null && rev.index > firstSigned) {
      const covering = candidates.filter((c) => c.structure.signedRevision !== null && c.structure.signedRevision < rev.index);
      const cert = covering.find((c) => c.docMdp !== null);
      r.changes =
        deadline !== undefined && Date.now() > deadline
          ? [timeLimitChange(rev.index)]
          : analyseRevision(bytes, rev.index, {
              docMdp: cert ? cert.docMdp : null,
              locks: covering.map((c) => c.lock).filter((l): l is FieldLock => l !== null),
              ...(deadline !== undefined ? { deadline } : {}),
            });
      r.analysed = true;
    }
    report.revisions.push(r);
  }
  // ISA: bytes after the last %%EOF that no revision accounts for.
  const last = doc.revisions[doc.revisions.length - 1];
  const lastReport = report.revisions[report.revisions.length - 1];
  if (last && lastReport && firstSigned !== null && hasContentAfter(bytes, last.endOffsetWithEol)) {
    lastReport.analysed = true;
    lastReport.changes.push({
      object: `bytes ${last.endOffsetWithEol}..${bytes.length}`,
      kind: 'trailing-bytes',
      allowed: false,
      reason: 'data after the last %%EOF, outside every revision and every signature',
    });
  }
  for (const r of report.revisions) if (r.analysed) r.verdict = r.changes.every((c) => c.allowed) ? 'allowed' : 'not-allowed';

  // Assemble per-signature reports in revision order.
  const sorted = candidates
    .map((c, i) => ({ c, i }))
    .sort((x, y) => (x.c.structure.byteRange?.[1] ?? 0) - (y.c.structure.byteRange?.[1] ?? 0));
  sorted.forEach(({ c, i }, n) => {
    const o = outcomes.get(i) as SignatureOutcome;
    const id = `sig-${n + 1}`;
    const rev = c.structure.signedRevision;
    if (rev !== null) report.revisions[rev]?.signedBy.push(id);
    if (rev !== null) o.checks.push(modificationsCheck(report.revisions, rev, policy, c.docMdp !== null));
    const { indication, subIndication } = decide(o.checks);
    const m = c.dict.get('M');
    report.signatures.push({
      id,
      fieldName: c.fieldName,
      type: c.type,
      subFilter: c.dict.getName('SubFilter') ?? null,
      signerSubject: o.signer ? o.signer.subject.replace(/\n/g, ', ') : null,
      signerIssuer: o.signer ? o.signer.issuer.replace(/\n/g, ', ') : null,
      claimedSigningTime: m instanceof PdfString ? m.toText() : null,
      bestSignatureTime: o.bestTime.toISOString(),
      bestSignatureTimeFromPoe: o.bestFromPoe,
      timestampTime: o.timestampTime ? o.timestampTime.toISOString() : null,
      byteRange: c.structure.byteRange ? [...c.structure.byteRange] : null,
      signedRevision: rev,
      coversWholeDocument: c.structure.coversWholeDocument,
      certificationLevel: c.docMdp,
      indication,
      subIndication,
      checks: o.checks,
    });
  });

  const disallowed = report.revisions.some((r) => r.verdict === 'not-allowed');
  const inds = report.signatures.map((s) => s.indication);
  report.documentIndication = inds.includes('TOTAL-FAILED')
    ? 'TOTAL-FAILED'
    : inds.every((i) => i === 'TOTAL-PASSED') && !disallowed
      ? 'TOTAL-PASSED'
      : 'INDETERMINATE';
  return report;
}

/**
 * A file whose structure cannot be read but that still contains signature dictionaries (found by
 * their /ByteRange key): each is reported TOTAL-FAILED/FORMAT_FAILURE rather than silently ignored,
 * because a signed file damaged after signing is not "unsigned" (bounded scan).
 */
function reportUnreadableSignatures(bytes: Uint8Array, report: ValidationReport, why = 'in a file whose structure cannot be read'): void {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = text.indexOf('/ByteRange');
  let n = 0;
  while (at >= 0 && n < 100) {
    n++;
    report.signatures.push({
      id: `sig-${n}`,
      fieldName: '',
      type: 'signature',
      subFilter: null,
      signerSubject: null,
      signerIssuer: null,
      claimedSigningTime: null,
      bestSignatureTime: report.validationTime,
      bestSignatureTimeFromPoe: false,
      timestampTime: null,
      byteRange: null,
      signedRevision: null,
      coversWholeDocument: false,
      certificationLevel: null,
      indication: 'TOTAL-FAILED',
      subIndication: 'FORMAT_FAILURE',
      checks: [{ name: 'signature-dictionary', status: 'failed', detail: `signature dictionary at byte ${at} ${why}: ${report.document.error?.message ?? ''}`, indication: 'TOTAL-FAILED', subIndication: 'FORMAT_FAILURE' }],
    });
    at = text.indexOf('/ByteRange', at + 10);
  }
  if (n > 0) report.documentIndication = 'TOTAL-FAILED';
}

function decide(checks: readonly CheckResult[]): { indication: Indication; subIndication: SubIndication | null } {
  for (const level of ['TOTAL-FAILED', 'INDETERMINATE'] as const) {
    const hits = checks.filter((c) => c.status === 'failed' && c.indication === level);
    if (hits.length > 0) {
      const subs = hits.map((h) => h.subIndication as SubIndication).sort((a, b) => SUB_ORDER.indexOf(a) - SUB_ORDER.indexOf(b));
      return { indication: level, subIndication: subs[0] ?? null };
    }
  }
  return { indication: 'TOTAL-PASSED', subIndication: null };
}

/**
 * ISO 32000-1 §12.8.2.2 / §12.8.4: later revisions must only hold permitted changes. `certifies`: the
 * signature is the certification one, which a flagged change (what it did not certify) concerns.
 */
function modificationsCheck(revisions: readonly RevisionReport[], signed: number, policy: ValidationPolicy, certifies: boolean): CheckResult {
  const bad = revisions.filter((r) => r.index > signed && r.verdict === 'not-allowed');
  const later = revisions.filter((r) => r.index > signed).length;
  if (bad.length === 0) {
    // Permitted, but flagged (a field drawn after the certification): said, not failed.
    const flagged = certifies ? revisions.filter((r) => r.index > signed).flatMap((r) => r.changes.filter((c) => c.flag).map((c) => ({ r, c })))[0] : undefined;
    if (flagged) return { name: 'modifications', status: 'warning', detail: `${later} later revision(s), all changes permitted; revision ${flagged.r.index}: ${flagged.c.reason}` };
    return { name: 'modifications', status: 'passed', detail: later === 0 ? 'no later revision' : `${later} later revision(s), all changes permitted` };
  }
  const first = bad[0]?.changes.find((c) => !c.allowed);
  // Revisions whose analysis did not finish in time are unknown, not known to be modified: said so.
  const unfinished = bad.every((r) => r.changes.every((c) => c.allowed || c.kind === 'time-limit'));
  const detail = unfinished
    ? `the analysis of revision(s) ${bad.map((r) => r.index).join(', ')} did not finish within the validation time limit: changes after the signature are not known to be permitted`
    : `disallowed changes in revision(s) ${bad.map((r) => r.index).join(', ')}${first ? `: ${first.object} — ${first.reason}` : ''}`;
  return policy.levels.modifications === 'fail'
    ? { name: 'modifications', status: 'failed', detail, indication: 'INDETERMINATE', subIndication: 'SIG_CONSTRAINTS_FAILURE' }
    : { name: 'modifications', status: 'warning', detail };
}

function hasContentAfter(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x0c && c !== 0x00) return true;
  }
  return false;
}

function addCmsCertificates(contents: Uint8Array | null, pool: CertificatePool): void {
  if (!contents) return;
  try {
    // Parsed again in validateSignature; a failure is reported there.
    for (const der of parseSignedData(contents).certificates) {
      const c = toX509(der);
      if (c) pool.add(c);
    }
  } catch {
    /* reported by validateSignature */
  }
}

/** /DSS /Certs, /OCSPs, /CRLs (EN 319 142-1 §5.4.2.2), decoded with a size bound. */
function readDss(doc: PdfDocument, errors: DocumentError[]): { certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[] } {
  const out = { certs: [] as Uint8Array[], ocsps: [] as Uint8Array[], crls: [] as Uint8Array[] };
  try {
    const dss = doc.resolveDict(doc.catalog.get('DSS'));
    if (!dss) return out;
    const read = (key: string, into: Uint8Array[]) => {
      const arr = doc.resolve(dss.get(key));
      if (!Array.isArray(arr)) return;
      for (const item of arr.slice(0, 1000)) {
        const s: PdfValue = doc.resolve(item);
        if (s instanceof PdfStream) into.push(decodeStreamFully(s, 4 * 1024 * 1024));
      }
    };
    read('Certs', out.certs);
    read('OCSPs', out.ocsps);
    read('CRLs', out.crls);
  } catch (e) {
    if (!(e instanceof PdfError)) throw e;
    errors.push({ code: e.code, message: `DSS unreadable: ${e.message}` });
  }
  return out;
}

/**
 * Signature fields with a value in the latest revision (one per signature dictionary: a dictionary
 * shared by several fields is one signature), plus dictionaries of earlier revisions that the latest
 * no longer has (signature removed or replaced: spoofing).
 */
function collectCandidates(bytes: Uint8Array, doc: PdfDocument, errors: DocumentError[]): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<number>();
  const add = (d: PdfDocument, f: ReturnType<PdfDocument['signatureFields']>[number], removedAfter: number | null) => {
    if (!f.value) return;
    const num = f.valueRef ? f.valueRef.num : null;
    if (num !== null) {
      if (seen.has(num)) return;
      seen.add(num);
    }
    const dict = f.value;
    const type = dict.getName('Type') === 'DocTimeStamp' || dict.getName('SubFilter') === 'ETSI.RFC3161' ? 'document-timestamp' : 'signature';
    out.push({
      fieldName: f.name,
      sigNum: num,
      dict,
      type,
      structure: analyseByteRange(bytes, d, num, dict, doc.revisions),
      removedAfter,
      lock: lockOf(d, f.lock, dict),
      docMdp: docMdpOf(d, dict, num),
    });
  };
  for (const f of doc.signatureFields()) add(doc, f, null);
  // Earlier revisions (bounded): signatures that vanished or were replaced later.
  const n = doc.revisions.length;
  for (let i = Math.max(0, n - 1 - MAX_VALIDATED_REVISIONS); i < n - 1; i++) {
    try {
      const d = PdfDocument.openRevision(bytes, i);
      for (const f of d.signatureFields()) {
        if (f.value && f.valueRef && !seen.has(f.valueRef.num)) add(d, f, i);
        else if (f.value && f.valueRef) {
          // Same object number, different dictionary in the latest revision: replaced.
          const latest = doc.resolveDict(f.valueRef);
          const c = out.find((x) => x.sigNum === f.valueRef?.num);
          if (c && latest && !sameByteRange(latest, f.value)) c.removedAfter = i;
        }
      }
    } catch (e) {
      if (!(e instanceof PdfError)) throw e;
      errors.push({ code: e.code, message: `revision ${i}: ${e.message}` });
    }
  }
  return out;
}

function sameByteRange(a: PdfDict, b: PdfDict): boolean {
  const s = (d: PdfDict) => JSON.stringify(d.get('ByteRange') ?? null);
  return s(a) === s(b);
}

/** DocMDP P of a certification signature (ISO 32000-1 §12.8.2.2, Table 254; default 2). */
function docMdpOf(doc: PdfDocument, sig: PdfDict, num: number | null): 1 | 2 | 3 | null {
  const perms = doc.resolveDict(doc.catalog.get('Perms'));
  const ref = perms?.get('DocMDP');
  const isCert = num !== null && ref !== undefined && typeof ref === 'object' && ref !== null && 'num' in ref && ref.num === num;
  const refs = doc.resolve(sig.get('Reference'));
  let p: number | undefined;
  let found = false;
  if (Array.isArray(refs)) {
    for (const r of refs) {
      const rd = doc.resolveDict(r);
      if (rd?.getName('TransformMethod') !== 'DocMDP') continue;
      found = true;
      p = doc.resolveDict(rd.get('TransformParams'))?.getNumber('P');
    }
  }
  if (!isCert && !found) return null;
  return p === 1 || p === 3 ? p : 2;
}

/** FieldMDP lock (ISO 32000-1 §12.8.2.4; /Lock Table 233) from the field or the signature's /Reference. */
function lockOf(doc: PdfDocument, lock: PdfDict | null, sig: PdfDict): FieldLock | null {
  let params: PdfDict | undefined = lock ?? undefined;
  if (!params) {
    const refs = doc.resolve(sig.get('Reference'));
    if (Array.isArray(refs)) {
      for (const r of refs) {
        const rd = doc.resolveDict(r);
        if (rd?.getName('TransformMethod') === 'FieldMDP') params = doc.resolveDict(rd.get('TransformParams'));
      }
    }
  }
  if (!params) return null;
  const action = params.getName('Action');
  if (action !== 'All' && action !== 'Include' && action !== 'Exclude') return null;
  const fieldsVal = doc.resolve(params.get('Fields'));
  const fields = Array.isArray(fieldsVal)
    ? fieldsVal.map((v) => doc.resolve(v)).filter((v): v is PdfString => v instanceof PdfString).map((v) => v.toText())
    : [];
  return { action, fields };
}
