/**
 * Wording of the certification stamp as data: a per-tenant template of lines with {placeholders}.
 * The default is the certification text (lời chứng) of docs/domain.md, Decree 23/2015 as amended,
 * with the conversion marker of Decree 137/2024 art. 4 (time of conversion, converter's agency).
 * Rendering substitutes the values and NFC-normalises the result, so what is drawn is exactly what
 * `renderStampText` returns (the tests compare `pdftotext` output against it).
 */
import { z } from 'zod';
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
  /**
   * The access code printed on the copy ("Mã truy cập"): whoever holds the copy may see the
   * requester's name and fetch the registered file with it (domain.md, "Verification page").
   * Absent: the line is not drawn.
   */
  accessCode?: string;
  /** HTTPS URL of the public verification page; the QR code holds this and nothing else. */
  verificationUrl: string;
  template?: StampTemplate;
  /**
   * Empty signature fields to create at the certifier's and the seal's places, in that order; the
   * seal's is locked once signed (FieldMDP, action All, P=1). The signers then sign fields the
   * certification already covers, instead of adding them after it (a field added after a
   * certification is flagged by validators as a possible overlay: a sneaky signature).
   */
  signatureFields?: { certifier: string; seal: string };
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
    /** Drawn only with an access code; the only line that may use {accessCode}; "" leaves it out. */
    accessCode: string;
  };
  /** Footer on every page; may use {page} and {pageCount}. */
  footer: string;
  /** TrueType (glyf) fonts covering Vietnamese; embedded as subsets. Set by the operator, never by a tenant's JSON. */
  fonts: { regular: string; bold: string };
  /** Placement and size options; DEFAULT_STAMP_LAYOUT when absent. */
  layout?: StampLayoutOptions;
}

export interface StampLayoutOptions {
  /** Factor applied to every text size of the certification block (the footer keeps its size). */
  fontScale: number;
  /** Which side of the band holds the certifier's block (heading, signature place, name, seal). */
  certifierSide: 'left' | 'right';
  /** Width of the certifier's column on pages wide enough for two columns, in points. */
  certifierColumnWidth: number;
  /** Left and right margin of the block, in points. */
  margin: number;
}

export const DEFAULT_STAMP_LAYOUT: StampLayoutOptions = { fontScale: 1, certifierSide: 'right', certifierColumnWidth: 250, margin: 24 };

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
  'copyPages',
  'convertedAt',
  'converter',
  'code',
  'accessCode',
] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * What no template may leave out (domain.md; Decree 137/2024 art. 4 for the conversion marker): every
 * value but the page count — number, volume, date, certifier, agency, conversion time and converter,
 * public code. The QR code is
 * drawn by the layout and cannot be templated away. The access code is optional (its own line).
 */
export const MANDATORY_PLACEHOLDERS: readonly Placeholder[] = PLACEHOLDERS.filter((p) => p !== 'pages' && p !== 'copyPages' && p !== 'accessCode');
/** The footer stands in for the paper seal across page edges: it names the number and the page. */
export const MANDATORY_FOOTER_PLACEHOLDERS = ['number', 'page', 'pageCount'] as const;

export const DEFAULT_STAMP_TEMPLATE: StampTemplate = {
  lines: {
    statement: 'Chứng thực bản sao đúng với bản chính.',
    numberAndVolume: 'Số chứng thực: {number}    Quyển số: {volume}',
    date: 'Ngày {dd} tháng {mm} năm {yyyy}',
    certifierHeading: 'NGƯỜI THỰC HIỆN CHỨNG THỰC',
    certifierTitleAgency: '{certifierTitle} – {agency}',
    certifierName: '{certifierName}',
    conversion: 'Bản sao điện tử được chứng thực từ bản chính, gồm {copyPages} trang; chuyển đổi lúc {convertedAt} bởi {converter}.',
    publicCode: 'Mã tra cứu: {code}',
    accessCode: 'Mã truy cập: {accessCode}',
  },
  footer: 'Số chứng thực {number}, trang {page}/{pageCount}',
  fonts: {
    regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
    bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  },
};

export type StampLines = StampTemplate['lines'];

const line = z
  .string()
  .max(400)
  .refine((t) => !/[\p{Cc}\p{Cf}]/u.test(t.replace(/\n/g, '')), 'control characters other than a line break are not allowed');
const LINE_KEYS = Object.keys(DEFAULT_STAMP_TEMPLATE.lines) as (keyof StampLines)[];

/** A tenant's template as JSON: any line or layout option left out keeps its default. */
const TENANT_TEMPLATE = z
  .strictObject({
    lines: z.strictObject(Object.fromEntries(LINE_KEYS.map((k) => [k, line.optional()])) as Record<keyof StampLines, z.ZodOptional<typeof line>>).optional(),
    footer: line.min(1).max(160).refine((t) => !t.includes('\n'), 'the footer is one line').optional(),
    layout: z
      .strictObject({
        fontScale: z.number().min(0.8).max(1.4).optional(),
        certifierSide: z.enum(['left', 'right']).optional(),
        certifierColumnWidth: z.number().min(180).max(320).optional(),
        margin: z.number().min(12).max(72).optional(),
      })
      .optional(),
  });

/** The full template (also checked when a template object is passed to stampCopy directly). */
const FULL_TEMPLATE = z.strictObject({
  lines: z.strictObject(Object.fromEntries(LINE_KEYS.map((k) => [k, line])) as Record<keyof StampLines, typeof line>),
  footer: line.min(1).max(160).refine((t) => !t.includes('\n'), 'the footer is one line'),
  fonts: z.strictObject({ regular: z.string().min(1), bold: z.string().min(1) }),
  layout: TENANT_TEMPLATE.shape.layout.unwrap().required().optional(),
});

function invalidTemplate(message: string, details?: Record<string, unknown>): StampError {
  return new StampError('stamp-invalid-template', `stamp template: ${message}`, details === undefined ? {} : { details });
}

function zodRefusal(error: z.ZodError): StampError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  return invalidTemplate(issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
}

function placeholdersIn(text: string): string[] {
  return [...text.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
}

/**
 * Refuses a template that uses an unknown placeholder or leaves out a mandatory one (in the lines
 * taken together: a tenant may move a value to another line) or the footer's number and page.
 */
export function checkStampTemplate(template: StampTemplate): StampTemplate {
  const parsed = FULL_TEMPLATE.safeParse(template);
  if (!parsed.success) {
    throw zodRefusal(parsed.error);
  }
  const known = new Set<string>(PLACEHOLDERS);
  const used = new Set<string>();
  for (const key of LINE_KEYS) {
    for (const p of placeholdersIn(template.lines[key])) {
      if (!known.has(p)) throw invalidTemplate(`lines.${key}: unknown placeholder {${p}}`);
      // Its line is left out when a copy has no access code; elsewhere it could not be filled.
      if (p === 'accessCode' && key !== 'accessCode') throw invalidTemplate(`lines.${key}: {accessCode} belongs in lines.accessCode only`);
      used.add(p);
    }
  }
  if (template.lines.accessCode !== '' && !placeholdersIn(template.lines.accessCode).includes('accessCode')) {
    throw invalidTemplate('lines.accessCode must contain {accessCode}, or be "" to leave the access code off the copy');
  }
  const missing = MANDATORY_PLACEHOLDERS.filter((p) => !used.has(p));
  if (missing.length > 0) {
    throw invalidTemplate(`the certification text must contain ${missing.map((p) => `{${p}}`).join(', ')}`, { missing });
  }
  const footer = placeholdersIn(template.footer);
  for (const p of footer) {
    if (!known.has(p) && p !== 'page' && p !== 'pageCount') throw invalidTemplate(`footer: unknown placeholder {${p}}`);
    if (p === 'accessCode') throw invalidTemplate('footer: {accessCode} belongs in lines.accessCode only');
  }
  const footerMissing = MANDATORY_FOOTER_PLACEHOLDERS.filter((p) => !footer.includes(p));
  if (footerMissing.length > 0) {
    throw invalidTemplate(`the footer must contain ${footerMissing.map((p) => `{${p}}`).join(', ')}`, { missing: footerMissing });
  }
  return template;
}

/**
 * A tenant's stamp template from its stored JSON: `{ "lines"?: {…}, "footer"?: "…", "layout"?: {…} }`,
 * every part optional (defaults from DEFAULT_STAMP_TEMPLATE / DEFAULT_STAMP_LAYOUT). Fonts are not
 * part of it (they are files on the server). Throws StampError `stamp-invalid-template` (422) with a
 * message naming the offending field.
 */
export function parseStampTemplate(json: string): StampTemplate {
  if (json.length > 16_384) throw invalidTemplate('longer than 16 KiB');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new StampError('stamp-invalid-template', `stamp template: not JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const parsed = TENANT_TEMPLATE.safeParse(raw);
  if (!parsed.success) {
    throw zodRefusal(parsed.error);
  }
  const t = parsed.data;
  const lines = { ...DEFAULT_STAMP_TEMPLATE.lines };
  for (const key of LINE_KEYS) {
    const value = t.lines?.[key];
    if (value !== undefined) lines[key] = value.normalize('NFC');
  }
  return checkStampTemplate({
    lines,
    footer: (t.footer ?? DEFAULT_STAMP_TEMPLATE.footer).normalize('NFC'),
    fonts: { ...DEFAULT_STAMP_TEMPLATE.fonts },
    layout: { ...DEFAULT_STAMP_LAYOUT, ...stripUndefined(t.layout ?? {}) },
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface StampText {
  lines: StampLines;
  footer(page: number, pageCount: number): string;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Validates the spec and fills the template; every string returned is NFC. */
/**
 * The stamp's text for `spec`. `{pages}` is the original's page count (what the officer counted, the
 * fee's basis), `{copyPages}` the copy's own (`copyPages`, the stamped document's pages; the
 * original's when not given): "bản sao điện tử … gồm {n} trang" counts the copy.
 */
export function renderStampText(spec: StampSpec, template: StampTemplate = spec.template ?? DEFAULT_STAMP_TEMPLATE, copyPages = spec.originalPages): StampText {
  if (template !== DEFAULT_STAMP_TEMPLATE) checkStampTemplate(template);
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
    ...(spec.accessCode === undefined ? {} : { accessCode: spec.accessCode }),
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
    copyPages: String(copyPages),
    convertedAt: spec.conversion.at,
    converter: spec.conversion.by,
    code: spec.publicCode,
    accessCode: spec.accessCode ?? '',
  };
  const lines = {} as StampLines;
  for (const key of Object.keys(template.lines) as (keyof StampLines)[]) {
    lines[key] = key === 'accessCode' && spec.accessCode === undefined ? '' : fill(template.lines[key], values, `lines.${key}`, []);
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
