/**
 * Use case: raise an already signed PDF (ours or anyone's) to B-T, B-LT or B-LTA, always by
 * incremental updates so every earlier signature stays valid (ETSI EN 319 142-1 §6.3, §5.4).
 *   B-T   adds a document timestamp when the last signature has no signature-time-stamp and no
 *         document timestamp follows it (an existing signature's CMS is never rewritten);
 *   B-LT  adds a DSS with validation data for every signature and document timestamp;
 *   B-LTA adds the DSS then a new document timestamp — also the way to renew an LTA document before
 *         its last timestamp's certificate or algorithm expires.
 */
import { rm } from 'node:fs/promises';
import { parseSignedData } from '../cms/index.ts';
import { PdfDocument, PdfString } from '../pdf/index.ts';
import {
  LEVEL_ORDER,
  PadesError,
  addDocumentTimestamp,
  addValidationData,
  type RevokedCertificate,
  derLength,
  type DocumentInput,
  type DocumentOutput,
  type PadesLevel,
  type SignedOutput,
} from '../pades/index.ts';
import { nextInput, type SigningDeps } from './signDocument.ts';

export interface ExtendResult extends SignedOutput {
  level: PadesLevel;
  /** What was appended, in order. */
  added: Array<'document-timestamp' | 'dss'>;
  /**
   * Certificates of the document's signatures or time-stamps found revoked: their revocation
   * evidence is in the DSS like the rest (a revocation after a signature's time-stamp leaves it valid;
   * the validator judges that), so the archive can still be renewed.
   */
  revoked: RevokedCertificate[];
}

interface SignatureState {
  signatures: number;
  /** The last signature or document timestamp is time-stamped (signature-time-stamp or a doc timestamp). */
  lastTimestamped: boolean;
}

function inspect(input: DocumentInput): SignatureState {
  const doc = PdfDocument.open('path' in input ? input.path : input.bytes);
  try {
    const signed = doc.signatureFields().filter((f) => f.value !== null);
    if (signed.length === 0) throw new PadesError('no-signature', 'the document has no signature to extend', { status: 422 });
    // Order by where the signed ranges end: the later in the file, the later the signature.
    const withEnd = signed.map((f) => {
      const br = doc.resolve(f.value!.get('ByteRange'));
      const end = Array.isArray(br) && br.length === 4 ? Number(br[2]) + Number(br[3]) : 0;
      return { f, end };
    });
    withEnd.sort((a, b) => a.end - b.end);
    const last = withEnd.at(-1)!.f.value!;
    if (last.getName('Type') === 'DocTimeStamp' || last.getName('SubFilter') === 'ETSI.RFC3161') {
      return { signatures: signed.length, lastTimestamped: true };
    }
    const contents = last.get('Contents');
    let stamped = false;
    if (contents instanceof PdfString) {
      try {
        const cms = parseSignedData(contents.bytes.subarray(0, derLength(contents.bytes)));
        stamped = (cms.signatureTimeStampTokens ?? []).length > 0;
      } catch {
        stamped = false;
      }
    }
    return { signatures: signed.length, lastTimestamped: stamped };
  } finally {
    doc.close();
  }
}

export async function extendDocument(
  deps: SigningDeps,
  input: DocumentInput,
  output: DocumentOutput,
  level: Exclude<PadesLevel, 'B-B'>,
): Promise<ExtendResult> {
  if (!deps.timestamps) throw new PadesError('timestamp-not-configured', 'extension needs a time-stamping authority, which is not configured', { status: 503 });
  if (LEVEL_ORDER[level] >= LEVEL_ORDER['B-LT'] && !deps.revocation) {
    throw new PadesError('revocation-not-configured', `level ${level} needs OCSP or CRL access, which is not configured`, { status: 503 });
  }
  const state = inspect(input);
  const steps: ExtendResult['added'] = [];
  if (!state.lastTimestamped && level !== 'B-LTA') steps.push('document-timestamp');
  if (LEVEL_ORDER[level] >= LEVEL_ORDER['B-LT']) steps.push('dss');
  if (level === 'B-LTA') steps.push('document-timestamp');
  if (steps.length === 0) {
    throw new PadesError('already-at-level', `the document is already at ${level} or above`, { status: 409 });
  }
  // B-LT without a timestamp: the DSS must cover a timestamp, so stamp first.
  if (steps[0] === 'dss' && !state.lastTimestamped) steps.unshift('document-timestamp');

  const staged: string[] = [];
  let current: DocumentInput = input;
  let last: SignedOutput = { length: 0 };
  const revoked: RevokedCertificate[] = [];
  try {
    for (let i = 0; i < steps.length; i++) {
      const isLast = i === steps.length - 1;
      let out: DocumentOutput = output;
      if (!isLast && 'path' in output) {
        out = { path: `${output.path}.stage${i}` };
        staged.push(out.path);
      }
      if (steps[i] === 'dss') {
        const lt = await addValidationData(current, out, deps.revocation!, { revoked: 'embed' });
        revoked.push(...lt.revoked);
        last = lt;
      } else last = await addDocumentTimestamp(current, out, deps.timestamps);
      current = nextInput(last);
    }
    return { length: last.length, path: last.path, bytes: last.bytes, digest: last.digest, level, added: steps, revoked };
  } finally {
    await Promise.all(staged.map((p) => rm(p, { force: true })));
  }
}
