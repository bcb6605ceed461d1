/**
 * Checks on what callers hand to the register, before any transaction starts: the register is kept
 * permanently, so a malformed entry must never reach it.
 */
import { InputError } from '../errors.ts';
import type { AnnulInput, CertificateRef, CopyCompletion } from './types.ts';

function invalid(field: string, message: string): InputError {
  return new InputError('registry-invalid-input', `${field}: ${message}`, { details: { field } });
}

export function text(field: string, value: unknown, max = 500): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'must be a non-empty string');
  if (value.length > max) throw invalid(field, `longer than ${max} characters`);
  return value;
}

export function optionalText(field: string, value: unknown, max = 2000): string | null {
  return value === null || value === undefined || value === '' ? null : text(field, value, max);
}

export function positiveInt(field: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalid(field, `must be an integer >= ${min}`);
  return value;
}

export function instant(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalid(field, 'must be a valid Date');
  return value;
}

function sha256Hex(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw invalid(field, 'must be 64 lower-case hex digits');
  return value;
}

function certificate(field: string, value: CertificateRef | null | undefined): CertificateRef {
  if (value === null || value === undefined || typeof value !== 'object') throw invalid(field, 'is required');
  if (typeof value.serial !== 'string' || !/^[0-9A-Fa-f]{1,80}$/.test(value.serial)) throw invalid(`${field}.serial`, 'must be hexadecimal');
  return {
    issuer: text(`${field}.issuer`, value.issuer, 1000),
    serial: value.serial.toLowerCase(),
    subject: optionalText(`${field}.subject`, value.subject, 1000),
  };
}

/** A calendar date YYYY-MM-DD that exists. */
export function calendarDate(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw invalid(field, 'must be YYYY-MM-DD');
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) throw invalid(field, 'is not a calendar date');
  return value;
}

/** Normalised copy of the register content (serials lower-cased, empty optionals as null). */
export function validCompletion(input: CopyCompletion): CopyCompletion {
  return {
    certifiedAt: instant('certifiedAt', input.certifiedAt),
    requesterName: text('requesterName', input.requesterName),
    documentType: text('documentType', input.documentType),
    documentName: text('documentName', input.documentName),
    originalIssuer: text('originalIssuer', input.originalIssuer),
    originalPages: positiveInt('originalPages', input.originalPages),
    copies: positiveInt('copies', input.copies),
    certifierName: text('certifierName', input.certifierName),
    certifierTitle: text('certifierTitle', input.certifierTitle),
    feeVnd: positiveInt('feeVnd', input.feeVnd, 0),
    notes: optionalText('notes', input.notes),
    caseCode: optionalText('caseCode', input.caseCode, 100),
    receivingSite: optionalText('receivingSite', input.receivingSite),
    scanSha256: sha256Hex('scanSha256', input.scanSha256),
    pdfSha256: sha256Hex('pdfSha256', input.pdfSha256),
    signerCertificate: certificate('signerCertificate', input.signerCertificate),
    agencyCertificate: input.agencyCertificate === null ? null : certificate('agencyCertificate', input.agencyCertificate),
    timestampAt: input.timestampAt === null ? null : instant('timestampAt', input.timestampAt),
    fileKey: text('fileKey', input.fileKey, 1000),
    actor: text('actor', input.actor, 200),
  };
}

export function validAnnulment(input: AnnulInput): AnnulInput {
  return {
    decisionNumber: text('decisionNumber', input.decisionNumber, 100),
    decisionDate: calendarDate('decisionDate', input.decisionDate),
    reason: text('reason', input.reason, 2000),
    actor: text('actor', input.actor, 200),
    ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
    ...(input.at === undefined ? {} : { at: instant('at', input.at) }),
  };
}

/**
 * The register year of an instant: the calendar year in Vietnam (ICT, UTC+7, no daylight saving since
 * 1975), because the certification date on the stamp is the local date.
 */
export function registerYear(at: Date): number {
  return new Date(at.getTime() + 7 * 3600_000).getUTCFullYear();
}
