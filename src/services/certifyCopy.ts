/**
 * Use case: certify an electronic copy from a scan of the original (domain.md). In order:
 *   1. normalise the scan to one PDF at 100 % scale;
 *   2. reserve the certification number, public code and access code (they are printed on the
 *      stamp, so they exist before the signatures; a failure later voids them — no gap, no reuse);
 *   3. stamp the certification text, QR code and page footers (on the same pdf-lib document as the
 *      normalised scan: the images are parsed and serialised once), with the two signature fields
 *      empty at their places;
 *   4. sign: the certifier (certification signature, DocMDP P=2, signature timestamp), then the
 *      agency seal (approval, timestamp, field lock P=1: no changes after it but LTV data), each into
 *      its field. The seal's field is certified with the rest: a field added after the
 *      certification would be flagged by validators as an overlay (sneaky signature);
 *   5. add validation data (DSS) for both signatures, and a document timestamp at B-LTA;
 *   6. store the PDF (steps 3–5 run in memory; the stamped first revision is written while 4–5 run,
 *      the rest appended after, all made durable before), then write the register entry in one
 *      transaction.
 * The certified copy is handed out only after its record exists.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { x509Certificate } from '../cms/index.ts';
import { AppError } from '../errors.ts';
import { certificateHolder, sameName } from './keyHolder.ts';
import { addDocumentTimestamp, addValidationData, type PadesLevel, type SignedOutput } from '../pades/index.ts';
import { formatVietnameseDateTime } from '../pdf/appearance/datetime.ts';
import type { CertificateRef, CopyRecord, CopyRepository, Tenant, VoidedEntry } from '../registry/index.ts';
import { nextAccessCode, registerYear } from '../registry/index.ts';
import { buildScanDocument, checkStampTemplate, stampCopy, type ScanFile, type ScanLimits, type StampTemplate } from '../stamp/index.ts';
import { certificationFee, type FeeSchedule } from './fee.ts';
import { nextInput, signDocument, type SigningDeps } from './signDocument.ts';

export interface CertifyCopyInput {
  tenant: Tenant;
  files: readonly ScanFile[];
  documentType: string;
  documentName?: string;
  originalIssuer: string;
  requesterName: string;
  originalPages: number;
  copies: number;
  caseCode?: string;
  receivingSite?: string;
  notes?: string;
  certifier: { keyLabel: string; title: string; name?: string };
  /** The agency seal key and its image drawn in the seal box. */
  seal: { keyLabel: string; image?: { bytes: Uint8Array; kind: 'png' | 'jpeg' } };
  level?: Extract<PadesLevel, 'B-LT' | 'B-LTA'>;
  /** The tenant's stamp wording and layout (parseStampTemplate of its stored JSON); the default text of domain.md when absent. */
  template?: StampTemplate;
  actor: string;
  now?: Date;
  /** The request's: aborted, the scan's decoding jobs still queued are dropped (intake.ts IntakeOptions). */
  signal?: AbortSignal | undefined;
}

export interface CertifyDeps {
  signing: SigningDeps;
  copies: CopyRepository;
  /** Where certified PDFs are kept (`<dir>/<tenant>/<year>/<public code>.pdf`). */
  storeDir: string;
  /** Base of the public verification URL in the QR code (`<base>/v/<code>`). */
  publicBaseUrl: string;
  fees?: FeeSchedule;
  scanLimits?: Partial<ScanLimits>;
  reservationTtlMs?: number;
  /** Told how long each step of a successful certification took (metrics, the bench). */
  onStep?: (step: CertifyStep, seconds: number) => void;
}

/** The signature fields the stamp makes empty at their places: the certifier's, then the agency seal's. */
const FIELDS = { certifier: 'NguoiChungThuc', seal: 'DauCoQuan' } as const;

/** The steps of a certification, in order (`onStep`). `reserve` includes any wait for a hashed access code. */
export const CERTIFY_STEPS = ['intake', 'reserve', 'stamp', 'certifier-signature', 'seal-signature', 'validation-data', 'store', 'register'] as const;
export type CertifyStep = (typeof CERTIFY_STEPS)[number];

export interface CertifiedCopy {
  record: CopyRecord;
  /** Second factor printed for the holder; shown once. */
  accessCode: string;
  pdfPath: string;
  verificationUrl: string;
}

function certRef(der: Uint8Array): CertificateRef {
  const c = x509Certificate(der);
  return { issuer: c.issuer.replace(/\n/g, ', '), serial: c.serialNumber, subject: c.subject.replace(/\n/g, ', ') };
}

/** Calendar date and ISO time in Việt Nam (UTC+07:00, no daylight saving). */
function vietnamTime(at: Date): { date: string; iso: string } {
  const local = new Date(at.getTime() + 7 * 3600_000).toISOString();
  return { date: local.slice(0, 10), iso: `${local.slice(0, 19)}+07:00` };
}

export async function certifyCopy(deps: CertifyDeps, input: CertifyCopyInput): Promise<CertifiedCopy> {
  const now = input.now ?? new Date();
  let lap = performance.now();
  // An observer's failure must not fail (or, after the register write, undo) a certification.
  const step = (name: CertifyStep): void => {
    if (!deps.onStep) return;
    const t = performance.now();
    try {
      deps.onStep(name, (t - lap) / 1000);
    } catch {
      /* metrics only */
    }
    lap = t;
  };
  // The access code's scrypt (~9 ms) runs on the thread pool ahead of need (AccessCodePool), not on
  // this certification's path nor on the event loop inside reserveNumber.
  const accessCode = nextAccessCode();
  accessCode.catch(() => {}); // awaited below; a failure there is the one reported
  const scan = await buildScanDocument(input.files, deps.scanLimits, { signal: input.signal });
  // A bad template is refused before a number is reserved (it would otherwise void one).
  if (input.template) checkStampTemplate(input.template);
  const [certifierSigner, sealSigner] = await Promise.all([deps.signing.getSigner(input.certifier.keyLabel), deps.signing.getSigner(input.seal.keyLabel)]);
  const certificateName = certifierSigner.certificate ? certificateHolder(certifierSigner.certificate) : undefined;
  // The stamp names the certifier and the certifier signs with their own key (domain.md): a key whose
  // certificate names someone else is refused before a number is reserved.
  if (input.certifier.name !== undefined && certificateName !== undefined && !sameName(input.certifier.name, certificateName)) {
    throw new AppError(
      'certifier-name-mismatch',
      `the stamp would name "${input.certifier.name}" as the certifier, but the certificate of key "${input.certifier.keyLabel}" names "${certificateName}"`,
      { status: 409, details: { stampName: input.certifier.name, certificateName, key: input.certifier.keyLabel } },
    );
  }
  const certifierName = input.certifier.name ?? certificateName ?? input.certifier.keyLabel;

  step('intake');
  // A client gone before its number is taken gets nothing registered: its retry certifies afresh,
  // without a second entry for the same original. Past this point the certification runs to its end
  // (the number is taken; the officer finds the copy in the register, an Idempotency-Key retry its answer).
  if (input.signal?.aborted) {
    throw new AppError('request-aborted', 'the request went away before a certification number was reserved; nothing was certified', { status: 400 });
  }
  const year = registerYear(now);
  const reservation = deps.copies.reserveNumber(input.tenant.id, year, deps.reservationTtlMs ?? 15 * 60_000, { at: now, accessCode: await accessCode });
  step('reserve');
  const finalPath = storedCopyPath(deps.storeDir, { tenantId: input.tenant.id, year, publicCode: reservation.publicCode });
  const dir = path.dirname(finalPath);
  const partialPath = partialCopyPath(deps.storeDir, { tenantId: input.tenant.id, year, publicCode: reservation.publicCode });
  const verificationUrl = `${deps.publicBaseUrl.replace(/\/$/, '')}/v/${reservation.publicCode}`;
  let store: DurableStore | undefined;
  try {
    // Made while the stamp is drawn; the store waits for it.
    const dirMade = mkdir(dir, { recursive: true });
    dirMade.catch(() => undefined); // reported by the store
    const t = vietnamTime(now);
    const stamped = await stampCopy(scan.doc, {
      certificationNumber: reservation.number,
      registerVolume: `${reservation.volumeLabel}${reservation.registerSuffix}`,
      date: t.date,
      certifier: { title: input.certifier.title, name: certifierName },
      agency: input.tenant.name,
      originalPages: input.originalPages,
      conversion: { at: t.iso, by: input.tenant.name },
      publicCode: reservation.publicCode,
      // Printed on the copy: its holder may see the requester's name and fetch the registered file.
      accessCode: reservation.accessCode,
      verificationUrl,
      template: input.template,
      signatureFields: FIELDS,
    });
    step('stamp');
    store = new DurableStore(partialPath, stamped.pdf, dirMade);
    const reason = `Chứng thực bản sao số ${reservation.number}, quyển số ${reservation.volumeLabel}${reservation.registerSuffix}`;
    // The two signers looked up above sign: one token lookup per key and certification.
    const signing: SigningDeps = {
      ...deps.signing,
      getSigner: (label) =>
        label === input.certifier.keyLabel ? Promise.resolve(certifierSigner) : label === input.seal.keyLabel ? Promise.resolve(sealSigner) : deps.signing.getSigner(label),
    };
    // Every stage stays in memory; the store has the stamped first revision and gets the rest at the end.
    const first = await signDocument(signing, { bytes: stamped.pdf }, { memory: true }, {
      key: input.certifier.keyLabel,
      level: 'B-T',
      certify: 2,
      reason,
      location: input.tenant.name,
      fieldName: FIELDS.certifier,
      signingTime: now,
      // The stamp already prints the certification text: the widget shows who signed and when.
      appearanceLines: [
        { text: `Ký số bởi: ${certifierName}`, bold: true },
        { text: `Thời gian: ${formatVietnameseDateTime(now)}` },
      ],
    });
    step('certifier-signature');
    // Into the empty field the stamp made (certified with the rest), at its place and with its lock.
    const second = await signDocument(signing, nextInput(first), { memory: true }, {
      key: input.seal.keyLabel,
      level: 'B-T',
      reason,
      location: input.tenant.name,
      image: input.seal.image,
      fieldName: FIELDS.seal,
      appearanceLines: input.seal.image ? [] : [{ text: 'Đã ký số', bold: true }, { text: input.tenant.name }],
    });
    step('seal-signature');
    // Both signatures were just made here: their certificates come along instead of being parsed again.
    let done: SignedOutput = await addValidationData(nextInput(second), { memory: true }, deps.signing.revocation!, { known: [first.signers, second.signers] });
    if (input.level === 'B-LTA') done = await addDocumentTimestamp(nextInput(done), { memory: true }, deps.signing.timestamps!);
    step('validation-data');
    const pdf = done.bytes!;
    // The signatures hashed the document as it grew: finish that SHA-256 instead of reading 6 MB again.
    const pdfSha256 = (done.digest?.algorithm === 'SHA-256' ? done.digest.hash.copy() : createHash('sha256').update(pdf)).digest('hex');
    await store.finish(finalPath, pdf);
    step('store');

    const scanSha256 = await scan.sourceSha256;
    const record = deps.copies.completeCopy(reservation.id, {
      certifiedAt: now,
      requesterName: input.requesterName,
      documentType: input.documentType,
      documentName: input.documentName ?? input.documentType,
      originalIssuer: input.originalIssuer,
      originalPages: input.originalPages,
      copies: input.copies,
      certifierName,
      certifierTitle: input.certifier.title,
      feeVnd: certificationFee(input.originalPages, input.copies, deps.fees),
      notes: input.notes ?? null,
      caseCode: input.caseCode ?? null,
      receivingSite: input.receivingSite ?? null,
      scanSha256,
      pdfSha256,
      signerCertificate: certRef(certifierSigner.certificate!),
      agencyCertificate: sealSigner.certificate ? certRef(sealSigner.certificate) : null,
      timestampAt: first.signatureTimestampAt ?? null,
      fileKey: path.relative(deps.storeDir, finalPath),
      actor: input.actor,
    });
    step('register');
    return { record, accessCode: reservation.accessCode, pdfPath: finalPath, verificationUrl };
  } catch (err) {
    // No certified copy without its record: void the number (kept in the register with the reason)
    // and remove every file of this attempt.
    await store?.abort();
    await rm(finalPath, { force: true });
    try {
      deps.copies.voidReservation(reservation.id, `certification failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500), { actor: input.actor });
    } catch {
      /* the reservation expires and the sweeper voids it */
    }
    throw err;
  } finally {
    await rm(partialPath, { force: true });
  }
}

/** Resolves a register file key under the copy store; null for a key that climbs out of it. */
export function fileKeyPath(storeDir: string, fileKey: string): string | null {
  const root = path.resolve(storeDir);
  const file = path.resolve(root, fileKey);
  return file.startsWith(root + path.sep) ? file : null;
}

/** Where an issued copy's PDF is kept: `<store>/<tenant>/<year>/<public code>.pdf` (its register file key, relative to the store). */
export function storedCopyPath(storeDir: string, entry: { tenantId: string; year: number; publicCode: string }): string {
  return path.join(storeDir, entry.tenantId, String(entry.year), `${entry.publicCode}.pdf`);
}

/** Where a certification in progress keeps the file it is writing (hidden; renamed once complete). */
export function partialCopyPath(storeDir: string, entry: { tenantId: string; year: number; publicCode: string }): string {
  return path.join(storeDir, entry.tenantId, String(entry.year), `.${entry.publicCode}.partial`);
}

/**
 * Where the sweeper puts a finished PDF whose number it voids: `<store>/.voided/<tenant>/<year>/<code>.pdf`,
 * out of the store's namespace but kept (after a restore from an older snapshot such a file may be a
 * copy someone holds).
 */
export function voidedCopyPath(storeDir: string, entry: { tenantId: string; year: number; publicCode: string }): string {
  return path.join(storeDir, '.voided', entry.tenantId, String(entry.year), `${entry.publicCode}.pdf`);
}

/**
 * Voids the reservations whose time ran out — certifications that crashed or were abandoned — and
 * clears what such a certification left in the store: its partial file is removed; a finished one
 * (the crash came between the rename and the register write) is moved to `voidedCopyPath`, since no
 * register entry will name it. The service runs it every minute.
 */
export async function sweepExpiredReservations(copies: CopyRepository, storeDir: string, now: Date = new Date()): Promise<VoidedEntry[]> {
  const voided = copies.voidExpiredReservations(now);
  await Promise.all(
    voided.flatMap((v) => [
      rm(partialCopyPath(storeDir, v), { force: true }),
      setAside(storedCopyPath(storeDir, v), voidedCopyPath(storeDir, v)),
    ]),
  );
  return voided;
}

async function setAside(file: string, to: string): Promise<void> {
  try {
    await mkdir(path.dirname(to), { recursive: true });
    await rename(file, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Stores the certified file before its record is written, overlapping the disk with the signing: the
 * first revision (the stamped scan: nearly all the bytes) is final once stamped — every later stage
 * only appends an incremental update (ISO 32000-1 §7.5.6) — so it is written and made durable while
 * the signatures are made. `finish` checks that the finished document extends those bytes, appends
 * the rest, makes it durable (fsync), renames it into place and makes the rename durable (fsync of
 * the directory).
 */
class DurableStore {
  private readonly prefixWritten: Promise<FileHandle>;

  constructor(
    private readonly partialPath: string,
    private readonly prefix: Uint8Array,
    dirMade: Promise<unknown>,
  ) {
    this.prefixWritten = (async () => {
      await dirMade;
      const file = await open(partialPath, 'w');
      try {
        await file.write(prefix, 0, prefix.length, 0);
        await file.datasync();
        return file;
      } catch (err) {
        await file.close();
        throw err;
      }
    })();
    this.prefixWritten.catch(() => undefined); // reported by finish or abort
  }

  async finish(finalPath: string, whole: Uint8Array): Promise<void> {
    const file = await this.prefixWritten;
    try {
      const n = this.prefix.length;
      // The stages usually grew the stamped revision's own buffer in place (src/pdf/growable.ts): the
      // same bytes then need no comparing.
      const samePrefix = whole.buffer === this.prefix.buffer && whole.byteOffset === this.prefix.byteOffset;
      if (whole.length < n || (!samePrefix && Buffer.compare(whole.subarray(0, n), this.prefix) !== 0)) {
        throw new Error('internal: the signed document does not extend its first revision');
      }
      await file.write(whole, n, whole.length - n, n);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(this.partialPath, finalPath);
    const dir = await open(path.dirname(finalPath), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Gives up: closes and removes the partial file (after the background write settled). */
  async abort(): Promise<void> {
    const file = await this.prefixWritten.catch(() => undefined);
    await file?.close().catch(() => undefined);
    await rm(this.partialPath, { force: true });
  }
}
