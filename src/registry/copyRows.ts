/** Mapping between certified_copies rows (joined with their volume and tenant) and register values. */
import type { CertificateRef, CopyCompletion, CopyRecord, PublicCopyView, RegisterEntry } from './types.ts';
import { volumeLabel } from './VolumeRepository.ts';

export interface CopyRow {
  id: string;
  tenant_id: string;
  volume_id: string;
  year: number;
  number: number;
  status: 'reserved' | 'valid' | 'annulled' | 'voided';
  public_code: string;
  access_code_hash: string;
  registered_at: string;
  reservation_expires_at: string | null;
  certified_at: string | null;
  requester_name: string | null;
  document_type: string | null;
  document_name: string | null;
  original_issuer: string | null;
  original_pages: number | null;
  copies_count: number | null;
  certifier_name: string | null;
  certifier_title: string | null;
  fee_vnd: number | null;
  notes: string | null;
  case_code: string | null;
  receiving_site: string | null;
  scan_sha256: string | null;
  pdf_sha256: string | null;
  signer_cert_issuer: string | null;
  signer_cert_serial: string | null;
  signer_cert_subject: string | null;
  agency_cert_issuer: string | null;
  agency_cert_serial: string | null;
  agency_cert_subject: string | null;
  timestamp_at: string | null;
  file_key: string | null;
  annul_decision_number: string | null;
  annul_decision_date: string | null;
  annul_reason: string | null;
  annulled_by: string | null;
  annulled_at: string | null;
  void_reason: string | null;
  voided_by: string | null;
  voided_at: string | null;
  /** From the join with register_volumes / tenants. */
  volume_seq: number;
  volume_suffix: string;
  tenant_name: string;
}

export const SELECT_COPY = `SELECT c.*, v.seq AS volume_seq, v.register_suffix AS volume_suffix, t.name AS tenant_name
  FROM certified_copies c JOIN register_volumes v ON v.id = c.volume_id JOIN tenants t ON t.id = c.tenant_id`;

/** Named parameters for the register-content columns of an UPDATE/INSERT. */
export function detailParams(d: CopyCompletion): Record<string, string | number | null> {
  return {
    certified_at: d.certifiedAt.toISOString(),
    requester_name: d.requesterName,
    document_type: d.documentType,
    document_name: d.documentName,
    original_issuer: d.originalIssuer,
    original_pages: d.originalPages,
    copies_count: d.copies,
    certifier_name: d.certifierName,
    certifier_title: d.certifierTitle,
    fee_vnd: d.feeVnd,
    notes: d.notes,
    case_code: d.caseCode,
    receiving_site: d.receivingSite,
    scan_sha256: d.scanSha256,
    pdf_sha256: d.pdfSha256,
    signer_cert_issuer: d.signerCertificate.issuer,
    signer_cert_serial: d.signerCertificate.serial,
    signer_cert_subject: d.signerCertificate.subject,
    agency_cert_issuer: d.agencyCertificate?.issuer ?? null,
    agency_cert_serial: d.agencyCertificate?.serial ?? null,
    agency_cert_subject: d.agencyCertificate?.subject ?? null,
    timestamp_at: d.timestampAt?.toISOString() ?? null,
    file_key: d.fileKey,
  };
}

export const DETAIL_COLUMNS = Object.keys(
  detailParams({
    certifiedAt: new Date(0),
    requesterName: '',
    documentType: '',
    documentName: '',
    originalIssuer: '',
    originalPages: 1,
    copies: 1,
    certifierName: '',
    certifierTitle: '',
    feeVnd: 0,
    notes: null,
    caseCode: null,
    receivingSite: null,
    scanSha256: '',
    pdfSha256: '',
    signerCertificate: { issuer: '', serial: '', subject: null },
    agencyCertificate: null,
    timestampAt: null,
    fileKey: '',
    actor: '',
  }),
);

function cert(issuer: string | null, serial: string | null, subject: string | null): CertificateRef | null {
  return issuer === null || serial === null ? null : { issuer, serial, subject };
}

const date = (s: string | null): Date | null => (s === null ? null : new Date(s));

export function toEntry(r: CopyRow): RegisterEntry {
  const base = {
    id: r.id,
    tenantId: r.tenant_id,
    volumeId: r.volume_id,
    volumeLabel: volumeLabel(r.volume_seq, r.year),
    registerSuffix: r.volume_suffix,
    year: r.year,
    number: r.number,
    publicCode: r.public_code,
    registeredAt: new Date(r.registered_at),
  };
  if (r.status === 'reserved') return { ...base, status: 'reserved', expiresAt: new Date(r.reservation_expires_at!) };
  if (r.status === 'voided') {
    return { ...base, status: 'voided', voidReason: r.void_reason!, voidedBy: r.voided_by!, voidedAt: new Date(r.voided_at!) };
  }
  // Written out rather than `...base`: V8 spreads a literal into an object of this size ~30× slower
  // than it builds it (measured: 28 µs vs 0.9 µs per row), and every public page view builds one.
  const record: CopyRecord = {
    id: base.id,
    tenantId: base.tenantId,
    volumeId: base.volumeId,
    volumeLabel: base.volumeLabel,
    registerSuffix: base.registerSuffix,
    year: base.year,
    number: base.number,
    publicCode: base.publicCode,
    registeredAt: base.registeredAt,
    status: r.status,
    certifiedAt: new Date(r.certified_at!),
    requesterName: r.requester_name!,
    documentType: r.document_type!,
    documentName: r.document_name!,
    originalIssuer: r.original_issuer!,
    originalPages: r.original_pages!,
    copies: r.copies_count!,
    certifierName: r.certifier_name!,
    certifierTitle: r.certifier_title!,
    feeVnd: r.fee_vnd!,
    notes: r.notes,
    caseCode: r.case_code,
    receivingSite: r.receiving_site,
    scanSha256: r.scan_sha256!,
    pdfSha256: r.pdf_sha256!,
    signerCertificate: cert(r.signer_cert_issuer, r.signer_cert_serial, r.signer_cert_subject)!,
    agencyCertificate: cert(r.agency_cert_issuer, r.agency_cert_serial, r.agency_cert_subject),
    timestampAt: date(r.timestamp_at),
    fileKey: r.file_key!,
    annulment:
      r.status === 'annulled'
        ? {
            decisionNumber: r.annul_decision_number!,
            decisionDate: r.annul_decision_date!,
            reason: r.annul_reason!,
            actor: r.annulled_by!,
            at: new Date(r.annulled_at!),
          }
        : null,
  };
  return record;
}

/**
 * The public view: only the fields domain.md lists as safe to show without a second factor. Every QR
 * scan reads one, so it has its own narrow query (no requester, no access-code hash, no fee) and
 * reads the row as an array: building a 45-property object per page view cost more than the query.
 */
export const SELECT_PUBLIC = `SELECT c.status, c.number, c.year, v.seq, v.register_suffix, c.certified_at, t.name, c.certifier_name,
    c.certifier_title, c.document_type, c.original_pages, c.pdf_sha256, c.signer_cert_issuer, c.signer_cert_serial,
    c.signer_cert_subject, c.agency_cert_issuer, c.agency_cert_serial, c.agency_cert_subject, c.timestamp_at,
    c.annul_decision_number, c.annul_decision_date, c.annul_reason, c.file_key
  FROM certified_copies c JOIN register_volumes v ON v.id = c.volume_id JOIN tenants t ON t.id = c.tenant_id
  WHERE c.public_code = ? AND c.status IN ('valid', 'annulled')`;

/** An instant exactly as Date.prototype.toJSON writes it (ISO_INSTANT below), as an SQLite GLOB pattern. */
const ISO_INSTANT_GLOB = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'";

/**
 * The public lookup answered as JSON: status, pdf_sha256 and file_key (the assessment's inputs), then
 * the public view's JSON made by SQLite as UTF-8 bytes (a BLOB): byte for byte what `publicViewJson`
 * writes from a SELECT_PUBLIC row, without decoding a dozen Vietnamese strings into JavaScript and
 * encoding them again. NULL when a stored instant is not in toJSON's form (then `publicViewJson`
 * normalises it); the caller also checks the bytes are UTF-8 (a lone surrogate stored from a client
 * is copied as it is). Both are checked against each other in test/registry/publicJson.test.ts.
 */
export const SELECT_PUBLIC_JSON = `SELECT c.status, c.pdf_sha256, c.file_key,
    CASE WHEN c.certified_at GLOB ${ISO_INSTANT_GLOB} AND (c.timestamp_at IS NULL OR c.timestamp_at GLOB ${ISO_INSTANT_GLOB}) THEN CAST(json_object(
      'status', c.status, 'number', c.number, 'volume', format('%02d/%d%s', v.seq, c.year, v.register_suffix),
      'certifiedAt', c.certified_at, 'agency', t.name, 'certifierName', c.certifier_name, 'certifierTitle', c.certifier_title,
      'documentType', c.document_type, 'originalPages', c.original_pages, 'pdfSha256', c.pdf_sha256,
      'signerCertificate', json_object('issuer', c.signer_cert_issuer, 'serial', c.signer_cert_serial, 'subject', c.signer_cert_subject),
      'agencyCertificate', CASE WHEN c.agency_cert_issuer IS NULL OR c.agency_cert_serial IS NULL THEN NULL
        ELSE json_object('issuer', c.agency_cert_issuer, 'serial', c.agency_cert_serial, 'subject', c.agency_cert_subject) END,
      'timestampAt', c.timestamp_at,
      'annulment', CASE WHEN c.status = 'annulled' THEN json_object('decisionNumber', c.annul_decision_number, 'decisionDate', c.annul_decision_date, 'reason', c.annul_reason) END
    ) AS BLOB) END
  FROM certified_copies c JOIN register_volumes v ON v.id = c.volume_id JOIN tenants t ON t.id = c.tenant_id
  WHERE c.public_code = ? AND c.status IN ('valid', 'annulled')`;

/** A SELECT_PUBLIC_JSON row read with `.raw()`. */
export type PublicJsonRow = [status: 'valid' | 'annulled', pdfSha256: string, fileKey: string | null, json: Buffer | null];

/** A SELECT_PUBLIC row read with `.raw()`, in its column order. */
export type PublicRow = [
  status: 'valid' | 'annulled',
  number: number,
  year: number,
  volumeSeq: number,
  volumeSuffix: string,
  certifiedAt: string,
  agency: string,
  certifierName: string,
  certifierTitle: string,
  documentType: string,
  originalPages: number,
  pdfSha256: string,
  signerIssuer: string,
  signerSerial: string,
  signerSubject: string | null,
  agencyIssuer: string | null,
  agencySerial: string | null,
  agencySubject: string | null,
  timestampAt: string | null,
  annulDecisionNumber: string | null,
  annulDecisionDate: string | null,
  annulReason: string | null,
  fileKey: string | null,
];

/** An instant as Date.prototype.toJSON writes it; stored instants already are (toISOString), others are normalised. */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
function isoInstant(s: string): string | null {
  if (ISO_INSTANT.test(s)) return s;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString(); // as toJSON
}

/** The public view's fields from a row, its instants made by `instant` (Dates for the view, ISO strings for JSON). */
function publicFields<T>(r: PublicRow, instant: (s: string) => T) {
  return {
    status: r[0],
    number: r[1],
    volume: `${volumeLabel(r[3], r[2])}${r[4]}`,
    certifiedAt: instant(r[5]),
    agency: r[6],
    certifierName: r[7],
    certifierTitle: r[8],
    documentType: r[9],
    originalPages: r[10],
    pdfSha256: r[11],
    signerCertificate: { issuer: r[12], serial: r[13], subject: r[14] },
    agencyCertificate: cert(r[15], r[16], r[17]),
    timestampAt: r[18] === null ? null : instant(r[18]),
    annulment: r[0] === 'annulled' ? { decisionNumber: r[19]!, decisionDate: r[20]!, reason: r[21]! } : null,
  };
}

/**
 * `JSON.stringify(toPublicView(r))`, written from the row's own instants: serialising a Date (its
 * toJSON) costs more than the rest of the view, and every public lookup answered as JSON pays it.
 */
export function publicViewJson(r: PublicRow): string {
  return JSON.stringify(publicFields(r, isoInstant));
}

export function toPublicView(r: PublicRow): PublicCopyView {
  return publicFields(r, (s) => new Date(s));
}
