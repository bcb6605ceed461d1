/**
 * Wording of the certification stamp as data: a per-tenant template of lines with {placeholders}.
 * The default is the certification text (lời chứng) of docs/domain.md, Decree 23/2015 as amended,
 * with the conversion marker of Decree 137/2024 art. 4 (time of conversion, converter's agency).
 * Rendering substitutes the values and NFC-normalises the result, so what is drawn is exactly what
 * `renderStampText` returns (the tests compare `pdftotext` output against it).
 */
import { StampError } from './errors.ts';

/** Values the placeholders refer to. */
export interface StampSpec {
  /** Certification number in the register volume ("Số chứng thực"). */
  certificationNumber: string | number;
  /** Register volume with its suffix, e.g. "01/2026-SCT/BS" ("Quyển số"). */
  registerVolume: string;
  /** Calendar date of certification at the agency, YYYY-MM-DD. */
  date: string;
  certifier: { title: string; name: string };
  /** Agency performing the certification ("Tên cơ quan thực hiện chứng thực"). */
  agency: string;
  /** Pages of the original document. */
  originalPages: number;
  /** Conversion marker (Law 20/2023 art. 12, Decree 137/2024 art. 4). */
  conversion: { at: string; by: string };
  /** Opaque public code printed on the copy ("Mã tra cứu"). */
  publicCode: string;
  /** HTTPS URL of the public verification page; the QR code holds this and nothing else. */
  verificationUrl: string;
  template?: StampTemplate;
}

export interface StampTemplate {
  /** Lines of the certification block, in reading order; see PLACEHOLDERS. */
  lines: {
    statement: string;
    numberAndVolume: string;
    date: string;
    certifierHeading: string;
    certifierTitleAgency: string;
    certifierName: string;
    conversion: string;
    publicCode: string;
  };
  /** Footer on every page; may use {page} and {pageCount}. */
  footer: string;
  /** TrueType (glyf) fonts covering Vietnamese; embedded as subsets. */
  fonts: { regular: string; bold: string };
}

export const PLACEHOLDERS = [
  'number',
  'volume',
  'dd',
  'mm',
  'yyyy',
  'certifierTitle',
  'certifierName',
  'agency',
  'pages',
  'convertedAt',
  'converter',
  'code',
] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

export const DEFAULT_STAMP_TEMPLATE: StampTemplate = {
  lines: {
    statement: 'Chứng thực bản sao đúng với bản chính.',
    numberAndVolume: 'Số chứng thực: {number}    Quyển số: {volume}',
    date: 'Ngày {dd} tháng {mm} năm {yyyy}',
    certifierHeading: 'NGƯỜI THỰC HIỆN CHỨNG THỰC',
    certifierTitleAgency: '{certifierTitle} – {agency}',
    certifierName: '{certifierName}',
    conversion: 'Bản sao điện tử được chứng thực từ bản chính, gồm {pages} trang; chuyển đổi lúc {convertedAt} bởi {converter}.',
    publicCode: 'Mã tra cứu: {code}',
  },
  footer: 'Số chứng thực {number}, trang {page}/{pageCount}',
  fonts: {
    regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
    bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  },
};

export type StampLines = StampTemplate['lines'];

export interface StampText {
  lines: StampLines;
  footer(page: number, pageCount: number): string;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Validates the spec and fills the template; every string returned is NFC. */
export function renderStampText(spec: StampSpec, template: StampTemplate = spec.template ?? DEFAULT_STAMP_TEMPLATE): StampText {
  const invalid = (what: string) => new StampError('stamp-invalid-spec', `stamp: ${what}`);
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(spec.date);
  if (!date || Number.isNaN(Date.parse(`${spec.date}T00:00:00Z`))) throw invalid(`date ${JSON.stringify(spec.date)} is not YYYY-MM-DD`);
  if (!ISO_8601.test(spec.conversion.at) || Number.isNaN(Date.parse(spec.conversion.at))) {
    throw invalid(`conversion time ${JSON.stringify(spec.conversion.at)} is not an ISO 8601 date-time with offset`);
  }
  if (!Number.isInteger(spec.originalPages) || spec.originalPages < 1) throw invalid('originalPages must be a positive integer');
  for (const [field, value] of Object.entries({
    certificationNumber: String(spec.certificationNumber),
    registerVolume: spec.registerVolume,
    certifierTitle: spec.certifier.title,
    certifierName: spec.certifier.name,
    agency: spec.agency,
    converter: spec.conversion.by,
    publicCode: spec.publicCode,
  })) {
    // Control characters would break the one-line layout and the extracted text.
    if (value.trim() === '' || /[\p{Cc}\p{Cf}]/u.test(value)) throw invalid(`${field} is empty or has control characters`);
  }
  const values: Record<Placeholder, string> = {
    number: String(spec.certificationNumber),
    volume: spec.registerVolume,
    dd: date[3]!,
    mm: date[2]!,
    yyyy: date[1]!,
    certifierTitle: spec.certifier.title,
    certifierName: spec.certifier.name,
    agency: spec.agency,
    pages: String(spec.originalPages),
    convertedAt: spec.conversion.at,
    converter: spec.conversion.by,
    code: spec.publicCode,
  };
  const lines = {} as StampLines;
  for (const key of Object.keys(template.lines) as (keyof StampLines)[]) {
    lines[key] = fill(template.lines[key], values, `lines.${key}`, []);
  }
  fill(template.footer, values, 'footer', ['page', 'pageCount']); // validate once, up front
  return {
    lines,
    footer: (page, pageCount) => fill(template.footer, { ...values, page: String(page), pageCount: String(pageCount) }, 'footer', []),
  };
}

function fill(text: string, values: Record<string, string>, where: string, deferred: string[]): string {
  return text
    .replace(/\{([A-Za-z]+)\}/g, (whole, key: string) => {
      if (Object.hasOwn(values, key)) return values[key]!;
      if (deferred.includes(key)) return whole;
      throw new StampError('stamp-invalid-template', `stamp template ${where}: unknown placeholder {${key}}`);
    })
    .normalize('NFC');
}
