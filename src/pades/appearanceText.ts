/**
 * The text of a visible signature, in Vietnamese (the labels a Vietnamese reader expects on a signed
 * administrative document), from the signer certificate and the signature parameters.
 */
import { X509Certificate } from 'node:crypto';
import { formatVietnameseDateTime } from '../pdf/appearance/datetime.ts';

export interface AppearanceTextInput {
  certificate: Uint8Array;
  signingTime: Date;
  reason?: string;
  location?: string;
  /** Time-zone offset printed, default +07:00 (Việt Nam). */
  tz?: string;
}

/** The value of one RDN attribute in node's `subject` rendering ("C=VN\nO=…\nCN=…"). */
export function subjectAttribute(subject: string, key: string): string | undefined {
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq) === key) return line.slice(eq + 1);
  }
  return undefined;
}

export function signatureAppearanceLines(input: AppearanceTextInput): Array<{ text: string; bold?: boolean }> {
  const subject = new X509Certificate(input.certificate).subject;
  const cn = subjectAttribute(subject, 'CN') ?? subject;
  const org = subjectAttribute(subject, 'O');
  const lines: Array<{ text: string; bold?: boolean }> = [{ text: `Ký bởi: ${cn}`, bold: true }];
  if (org && org !== cn) lines.push({ text: `Cơ quan: ${org}` });
  lines.push({ text: `Thời gian: ${formatVietnameseDateTime(input.signingTime, input.tz ?? '+07:00')}` });
  if (input.reason) lines.push({ text: `Lý do: ${input.reason}` });
  if (input.location) lines.push({ text: `Địa điểm: ${input.location}` });
  return lines;
}
