/**
 * JSON of register entries and refusals for the tenant's own officers and systems (the public view
 * is PublicCopyView). Status words: valid | annulled | void | reserved (a number taken by a
 * certification still running; it becomes valid or void).
 */
import type { Refusal, RegisterEntry } from '../../../registry/index.ts';

export interface RegisterEntryJson {
  id: string;
  number: number;
  year: number;
  registerVolume: string;
  registeredAt: string;
  status: 'valid' | 'annulled' | 'void' | 'reserved';
  publicCode: string;
  certifiedAt: string | null;
  documentType: string | null;
  documentName: string | null;
  originalIssuer: string | null;
  requesterName: string | null;
  originalPages: number | null;
  copies: number | null;
  certifierName: string | null;
  certifierTitle: string | null;
  feeVnd: number | null;
  caseCode: string | null;
  receivingSite: string | null;
  notes: string | null;
  scanSha256: string | null;
  pdfSha256: string | null;
  timestampAt: string | null;
  annulment?: { decisionNumber: string; decisionDate: string; reason: string; by: string; at: string };
  void?: { reason: string; by: string; at: string };
}

export function entryJson(e: RegisterEntry): RegisterEntryJson {
  const base = {
    id: e.id,
    number: e.number,
    year: e.year,
    registerVolume: `${e.volumeLabel}${e.registerSuffix}`,
    registeredAt: e.registeredAt.toISOString(),
    publicCode: e.publicCode,
  };
  if (e.status === 'reserved' || e.status === 'voided') {
    const empty = {
      certifiedAt: null, documentType: null, documentName: null, originalIssuer: null, requesterName: null, originalPages: null, copies: null,
      certifierName: null, certifierTitle: null, feeVnd: null, caseCode: null, receivingSite: null, notes: null, scanSha256: null, pdfSha256: null, timestampAt: null,
    };
    if (e.status === 'reserved') return { ...base, status: 'reserved', ...empty };
    return { ...base, status: 'void', ...empty, void: { reason: e.voidReason, by: e.voidedBy, at: e.voidedAt.toISOString() } };
  }
  return {
    ...base,
    status: e.status,
    certifiedAt: e.certifiedAt.toISOString(),
    documentType: e.documentType,
    documentName: e.documentName,
    originalIssuer: e.originalIssuer,
    requesterName: e.requesterName,
    originalPages: e.originalPages,
    copies: e.copies,
    certifierName: e.certifierName,
    certifierTitle: e.certifierTitle,
    feeVnd: e.feeVnd,
    caseCode: e.caseCode,
    receivingSite: e.receivingSite,
    notes: e.notes,
    scanSha256: e.scanSha256,
    pdfSha256: e.pdfSha256,
    timestampAt: e.timestampAt?.toISOString() ?? null,
    ...(e.annulment
      ? { annulment: { decisionNumber: e.annulment.decisionNumber, decisionDate: e.annulment.decisionDate, reason: e.annulment.reason, by: e.annulment.actor, at: e.annulment.at.toISOString() } }
      : {}),
  };
}

export interface RefusalJson {
  id: string;
  ground: string;
  reason: string | null;
  documentType: string;
  requesterName: string | null;
  caseCode: string | null;
  by: string;
  officerId: string | null;
  at: string;
}

export function refusalJson(r: Refusal): RefusalJson {
  return {
    id: r.id,
    ground: r.ground,
    reason: r.reason,
    documentType: r.documentType,
    requesterName: r.requesterName,
    caseCode: r.caseCode,
    by: r.actor,
    officerId: r.officerId,
    at: r.at.toISOString(),
  };
}
