/**
 * Plain values of the register of certified copies (domain.md "The register"): what repositories
 * take and return. Dates are `Date` instants; the decision date of an annulment is a calendar date.
 */
import type { PreparedAccessCode } from './codes.ts';

export interface Tenant {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  /** "-SCT/BS" by default; some provinces keep an electronic register "-SCTĐT/BS" (domain.md, verify). */
  readonly registerSuffix: string;
  readonly createdAt: Date;
}

export interface NewTenant {
  /** Chosen by the operator or generated (UUID). */
  readonly id?: string;
  readonly code: string;
  readonly name: string;
  readonly registerSuffix?: string;
}

/** A register volume (quyển số), per tenant and year. */
export interface RegisterVolume {
  readonly id: string;
  readonly tenantId: string;
  readonly year: number;
  /** Volume sequence within the year: 1 for "01/2026". */
  readonly seq: number;
  /** "01/2026" — printed as "Quyển số: 01/2026-SCT/BS" with `registerSuffix`. */
  readonly label: string;
  /** Copied from the tenant when the volume opened, so a later change never rewrites old entries. */
  readonly registerSuffix: string;
  readonly openedAt: Date;
  /** First certification number of this volume (1 for the first volume of a year). */
  readonly firstNumber: number;
  /** Last number allocated; firstNumber - 1 while the volume is empty. */
  readonly lastNumber: number;
  readonly closedAt: Date | null;
  /** Stored at closing: entries certified (valid or later annulled) and numbers voided. */
  readonly totalCertified: number | null;
  readonly totalVoided: number | null;
}

/** Issuer + serial identify a certificate (RFC 5652 IssuerAndSerialNumber); subject for display. */
export interface CertificateRef {
  readonly issuer: string;
  /** Hexadecimal serial number. */
  readonly serial: string;
  readonly subject: string | null;
}

/** The register entry's content, known once the copy has been signed (domain.md "Per entry"). */
export interface CopyDetails {
  /** Date of certification (the "Ngày … tháng … năm …" of the stamp); decides the register year. */
  readonly certifiedAt: Date;
  readonly requesterName: string;
  readonly documentType: string;
  readonly documentName: string;
  readonly originalIssuer: string;
  /** Pages of the original (the fee counts these, Circular 226/2016/TT-BTC). */
  readonly originalPages: number;
  /** Number of copies certified. */
  readonly copies: number;
  readonly certifierName: string;
  readonly certifierTitle: string;
  /** Computed by the caller from the configured fee schedule; stored as given. */
  readonly feeVnd: number;
  readonly notes: string | null;
  /** One-stop (một cửa) case code and the receiving site (Decree 118/2025/ND-CP). */
  readonly caseCode: string | null;
  readonly receivingSite: string | null;
  /** Lower-case hex SHA-256 of the normalised scan and of the certified (signed) PDF. */
  readonly scanSha256: string;
  readonly pdfSha256: string;
  /** The certifier's personal signing certificate and the agency seal certificate. */
  readonly signerCertificate: CertificateRef;
  readonly agencyCertificate: CertificateRef | null;
  /** genTime of the signature time-stamp, when there is one. */
  readonly timestampAt: Date | null;
  /** Where the certified PDF is stored (file-store key or path). */
  readonly fileKey: string;
}

export interface CopyCompletion extends CopyDetails {
  /** Who issued (officer account); recorded in the event. */
  readonly actor: string;
}

export interface NewCopy extends CopyCompletion {
  readonly tenantId: string;
  /** Prepared with `prepareAccessCode()` before the write; generated synchronously when absent. */
  readonly accessCode?: PreparedAccessCode;
}

export type CopyStatus = 'reserved' | 'valid' | 'annulled' | 'voided';

interface EntryBase {
  readonly id: string;
  readonly tenantId: string;
  readonly volumeId: string;
  /** "01/2026" */
  readonly volumeLabel: string;
  readonly registerSuffix: string;
  readonly year: number;
  readonly number: number;
  readonly publicCode: string;
  /** When the number was entered in the register. */
  readonly registeredAt: Date;
}

export interface Annulment {
  readonly decisionNumber: string;
  /** Calendar date of the decision, YYYY-MM-DD. */
  readonly decisionDate: string;
  readonly reason: string;
  readonly actor: string;
  readonly at: Date;
}

export interface CopyRecord extends EntryBase, CopyDetails {
  readonly status: 'valid' | 'annulled';
  readonly annulment: Annulment | null;
}

/** Returned once by `issueCopy`: the plain access code is never stored nor shown again. */
export interface IssuedCopy extends CopyRecord {
  readonly accessCode: string;
}

export interface ReservedEntry extends EntryBase {
  readonly status: 'reserved';
  readonly expiresAt: Date;
}

/** A number that was reserved and never issued: shown in the register as void with its reason. */
export interface VoidedEntry extends EntryBase {
  readonly status: 'voided';
  readonly voidReason: string;
  readonly voidedBy: string;
  readonly voidedAt: Date;
}

export type RegisterEntry = CopyRecord | ReservedEntry | VoidedEntry;

/** A number (and codes) allocated before signing, to be printed on the stamp. */
export interface Reservation extends ReservedEntry {
  readonly accessCode: string;
}

export interface ReserveOptions {
  readonly at?: Date;
  readonly accessCode?: PreparedAccessCode;
}

export interface AnnulInput {
  readonly decisionNumber: string;
  readonly decisionDate: string;
  readonly reason: string;
  readonly actor: string;
  /** When given, the copy must belong to this tenant. */
  readonly tenantId?: string;
  readonly at?: Date;
}

/**
 * What the public verification page may show without a second factor (domain.md "Registry data safe
 * to show"): no requester name, no document name, no one-stop case data, no file location.
 */
export interface PublicCopyView {
  readonly status: 'valid' | 'annulled';
  readonly number: number;
  /** "01/2026-SCT/BS" */
  readonly volume: string;
  readonly certifiedAt: Date;
  readonly agency: string;
  readonly certifierName: string;
  readonly certifierTitle: string;
  readonly documentType: string;
  readonly originalPages: number;
  readonly pdfSha256: string;
  readonly signerCertificate: CertificateRef;
  readonly agencyCertificate: CertificateRef | null;
  readonly timestampAt: Date | null;
  readonly annulment: { readonly decisionNumber: string; readonly decisionDate: string; readonly reason: string } | null;
}

export interface ListQuery {
  /** Inclusive lower bound on registeredAt. */
  readonly from?: Date;
  /** Exclusive upper bound on registeredAt. */
  readonly to?: Date;
  readonly year?: number;
  readonly number?: number;
  readonly volumeId?: string;
  readonly status?: CopyStatus;
  /** The public code printed on the copy (normalised; an impossible code matches nothing). */
  readonly publicCode?: string;
  /** One-stop case code, exact match. */
  readonly caseCode?: string;
  /** 1..500, default 50. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface ChainProblem {
  /** `anchor`: a head recorded earlier (a backup manifest, an anchored hash) is no longer in the chain. */
  readonly kind: 'event' | 'copy' | 'volume' | 'anchor';
  readonly id: string;
  readonly reason: string;
}

/** An issued entry's stored PDF: where it is under the copy store and the SHA-256 the register holds for it. */
export interface StoredFile {
  readonly id: string;
  readonly publicCode: string;
  readonly fileKey: string;
  readonly pdfSha256: string;
}

export interface ChainReport {
  readonly ok: boolean;
  /** Events whose hash and link were checked. */
  readonly checked: number;
  /** Register entries cross-checked against their events. */
  readonly entries: number;
  readonly firstBad?: ChainProblem;
  /** Hash of the newest event: anchor it outside the database (e.g. time-stamp it) to catch truncation. */
  readonly head: { readonly id: number; readonly hash: string } | null;
}
