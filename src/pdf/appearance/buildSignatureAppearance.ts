/**
 * The visible appearance of a signature widget: a Form XObject (ISO 32000-1 §8.10) to be used as the
 * widget annotation's normal appearance /AP /N (§12.5.5). It draws an optional background and border,
 * an optional image (a seal or logo, left of the text or behind it) and the signer's text lines, which
 * are wrapped and shrunk until they fit the box.
 */
import { deflateSync } from 'node:zlib';
import { PDFContext, PDFRawStream, PDFRef } from 'pdf-lib';
import { AppearanceInputError } from './errors.ts';
import { DEFAULT_BOLD_FONT_PATH, DEFAULT_FONT_PATH, FontSubset, missingCharacters } from './fonts.ts';
import { embedImage, fitImage, type ImageSpec } from './images.ts';
import { layoutText, type Box, type PlacedLine, type TextLineSpec } from './layout.ts';
import { emitReachable, type EmittedObject } from './serialize.ts';

export interface SignatureAppearanceSpec {
  /** Widget rectangle size in points; the form's /BBox is [0 0 width height]. */
  width: number;
  height: number;
  /** Already localized lines (signer, organisation, time, reason, location…), drawn top to bottom. */
  lines: TextLineSpec[];
  /** TrueType font with Vietnamese coverage; DejaVu Sans by default. */
  fontPath?: string;
  /** Face for `bold` lines; DejaVu Sans Bold by default, or `fontPath` when only that one is given. */
  boldFontPath?: string;
  image?: ImageSpec;
  /** 'left' (default): image in a column left of the text; 'behind': faded under the text. */
  imagePlacement?: 'left' | 'behind';
  border?: boolean;
  /** Fill colour, DeviceRGB components in 0..1. */
  background?: [number, number, number];
  /** Smallest font size the auto-fit may use (points); default 4. */
  minFontSize?: number;
  /**
   * The page's /Rotate (0, 90, 180, 270). `width`/`height` are then the box as the reader sees it,
   * and the form gets a /Matrix turning it against the page's rotation, so its text stands upright on
   * screen (§12.5.5: the form's transformed box is fitted to the widget's /Rect).
   */
  pageRotation?: number;
}

export interface SignatureAppearance {
  /** Object number of the Form XObject, to put in the widget's /AP << /N … >>. */
  formXObject: number;
  /** Every object reachable from the form (fonts, images, the form itself), and nothing else. */
  objects: EmittedObject[];
}

/** Opacity of an image drawn behind the text, so the text stays legible over a seal. */
const BEHIND_IMAGE_ALPHA = 0.35;
const BORDER_WIDTH = 0.75;

export async function buildSignatureAppearance(
  spec: SignatureAppearanceSpec,
  allocate: () => number,
): Promise<SignatureAppearance> {
  const { width: w, height: h } = spec;
  if (!(Number.isFinite(w) && Number.isFinite(h) && w > 0 && h > 0)) {
    throw new AppearanceInputError('appearance-invalid-box', `the signature box must have a positive size, got ${w}×${h}`);
  }
  if (spec.background !== undefined && !spec.background.every((c) => Number.isFinite(c) && c >= 0 && c <= 1)) {
    throw new AppearanceInputError('appearance-invalid-box', 'background colour components must be within 0..1');
  }

  const regularPath = spec.fontPath ?? DEFAULT_FONT_PATH;
  const boldPath = spec.boldFontPath ?? (spec.fontPath === undefined ? DEFAULT_BOLD_FONT_PATH : spec.fontPath);
  // NFC: Vietnamese letters as single precomposed code points, which the font has glyphs for; decomposed
  // input (e from macOS file names or some keyboards: e + U+0302 + U+0303) would otherwise draw loose marks.
  // Explicit line breaks become separate lines of the same style.
  const lines: TextLineSpec[] = spec.lines.flatMap((line) =>
    line.text
      .normalize('NFC')
      .split(/\r\n|\r|\n/)
      .map((text) => ({ ...line, text })),
  );
  for (const line of lines) {
    const path = line.bold === true ? boldPath : regularPath;
    const missing = missingCharacters(line.text, path);
    if (missing.length > 0) {
      throw new AppearanceInputError('appearance-glyph-missing', `the font ${path} cannot draw ${missing.join(' ')}`, {
        details: { characters: missing },
      });
    }
  }

  const context = PDFContext.create();
  const regular = lines.some((l) => l.bold !== true) ? new FontSubset(regularPath) : undefined;
  const bold = lines.some((l) => l.bold === true) ? new FontSubset(boldPath) : undefined;
  const image = spec.image === undefined ? undefined : await embedImage(context, spec.image);
  const placement = spec.imagePlacement ?? 'left';

  // Geometry: a padding inside the border, then either [image column | text] or text over the image.
  const pad = clamp(Math.min(w, h) * 0.05, 1.5, 6);
  const inner: Box = { x: pad, y: pad, width: w - 2 * pad, height: h - 2 * pad };
  let textBox = inner;
  let imageBox: Box | undefined;
  if (image !== undefined) {
    if (placement === 'behind') {
      imageBox = inner;
    } else {
      const column = Math.min(inner.height, inner.width * 0.3);
      imageBox = { x: inner.x, y: inner.y, width: column, height: inner.height };
      textBox = { x: inner.x + column + pad, y: inner.y, width: inner.width - column - pad, height: inner.height };
    }
  }

  const metricsFont = regular ?? bold;
  const placed = layoutText(
    lines,
    textBox,
    (text, size, isBold) => ((isBold ? bold : regular) as FontSubset).width(text, size),
    {
      minSize: spec.minFontSize ?? 4,
      ...(metricsFont === undefined ? {} : { ascent: metricsFont.ascent, descent: metricsFont.descent }),
    },
  );
  if (placed === null) {
    throw new AppearanceInputError(
      'appearance-text-does-not-fit',
      `the text does not fit a ${fmt(w)}×${fmt(h)} pt box even at ${spec.minFontSize ?? 4} pt`,
    );
  }

  const ops: string[] = ['q'];
  if (spec.background !== undefined) {
    ops.push(`${spec.background.map(fmt).join(' ')} rg`, `0 0 ${fmt(w)} ${fmt(h)} re f`);
  }
  if (spec.border === true) {
    // Stroke inside the box: the form's /BBox clips (§8.10.1), so a stroke on the edge would be halved.
    const half = BORDER_WIDTH / 2;
    ops.push(`${fmt(BORDER_WIDTH)} w 0 0 0 RG`, `${fmt(half)} ${fmt(half)} ${fmt(w - BORDER_WIDTH)} ${fmt(h - BORDER_WIDTH)} re S`);
  }
  if (image !== undefined && imageBox !== undefined) {
    const r = fitImage(image, imageBox);
    // An image XObject paints the unit square; cm scales it to the target rectangle (§8.9.5).
    ops.push('q');
    if (placement === 'behind') ops.push('/GS0 gs');
    ops.push(`${fmt(r.width)} 0 0 ${fmt(r.height)} ${fmt(r.x)} ${fmt(r.y)} cm`, '/Im0 Do', 'Q');
  }
  if (placed.length > 0) ops.push(...textOperators(placed, regular, bold));
  ops.push('Q');

  const fontResources: Record<string, PDFRef> = {};
  if (regular !== undefined) fontResources['F1'] = await regular.embed(context);
  if (bold !== undefined) fontResources['F2'] = await bold.embed(context);
  const resources: Record<string, unknown> = {
    ProcSet: ['PDF', 'Text', 'ImageB', 'ImageC'],
  };
  if (Object.keys(fontResources).length > 0) resources['Font'] = fontResources;
  if (image !== undefined) resources['XObject'] = { Im0: image.ref };
  if (image !== undefined && placement === 'behind') {
    // Constant alpha for non-stroking painting, images included (§11.6.4.4).
    resources['ExtGState'] = { GS0: { Type: 'ExtGState', ca: BEHIND_IMAGE_ALPHA, CA: BEHIND_IMAGE_ALPHA } };
  }

  const form = PDFRawStream.of(
    context.obj({
      Type: 'XObject',
      Subtype: 'Form',
      FormType: 1,
      BBox: [0, 0, w, h],
      ...rotationMatrix(spec.pageRotation ?? 0),
      Resources: context.obj(resources as Parameters<PDFContext['obj']>[0]),
      Filter: 'FlateDecode',
    }),
    deflateSync(Buffer.from(`${ops.join('\n')}\n`, 'latin1')),
  );
  const formRef = context.register(form);
  const { rootNumbers, objects } = emitReachable(context, [formRef], allocate);
  return { formXObject: rootNumbers[0] as number, objects };
}

/** A counter-clockwise turn by the page's clockwise /Rotate, as a form /Matrix (none for 0). */
function rotationMatrix(rotate: number): { Matrix?: number[] } {
  switch (((rotate % 360) + 360) % 360) {
    case 90:
      return { Matrix: [0, 1, -1, 0, 0, 0] };
    case 180:
      return { Matrix: [-1, 0, 0, -1, 0, 0] };
    case 270:
      return { Matrix: [0, -1, 1, 0, 0, 0] };
    default:
      return {};
  }
}

function textOperators(placed: PlacedLine[], regular: FontSubset | undefined, bold: FontSubset | undefined): string[] {
  const ops = ['BT', '0 g'];
  let current = '';
  for (const line of placed) {
    if (line.text === '') continue;
    const font = (line.bold ? bold : regular) as FontSubset;
    const selector = `/${line.bold ? 'F2' : 'F1'} ${fmt(line.size)} Tf`;
    if (selector !== current) {
      ops.push(selector);
      current = selector;
    }
    // Absolute text matrix per line (§9.4.2): no accumulated rounding from relative moves.
    ops.push(`1 0 0 1 ${fmt(line.x)} ${fmt(line.y)} Tm`, `${font.encode(line.text)} Tj`);
  }
  ops.push('ET');
  return ops;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** Content-stream number: at most 3 decimals, no exponent, no "-0" (§7.3.3 has no exponent form). */
function fmt(n: number): string {
  const s = (Math.round(n * 1000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}
