import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  DEFAULT_STAMP_TEMPLATE,
  StampError,
  normalizeScan,
  renderStampText,
  stampCopy,
  type StampSpec,
  type StampedCopy,
} from '../../src/stamp/index.ts';
import { qpdfCheck } from '../support/pdfTools.ts';
import {
  Workdir,
  compareTopRows,
  fixturePdf,
  parsePnm,
  pdffonts,
  pdfimagesAll,
  pdfimagesList,
  pdfinfoPageSizes,
  pdftotext,
  rasterize,
  zbarDecode,
  type FixturePage,
} from './helpers.ts';

const URL_ = 'https://tracuu.example.gov.vn/c/K7Q2M9XW4TBD8RZC3NPV6HJY5E';
const spec: StampSpec = {
  certificationNumber: 1234,
  registerVolume: '01/2026-SCT/BS',
  date: '2026-03-05',
  certifier: { title: 'Phó Chủ tịch', name: 'Nguyễn Thị Đào' },
  agency: 'Ủy ban nhân dân phường Hoàn Kiếm',
  originalPages: 3,
  conversion: { at: '2026-03-05T09:12:00+07:00', by: 'Trung tâm Phục vụ hành chính công thành phố Hà Nội' },
  publicCode: 'K7Q2M9XW4TBD8RZC3NPV6HJY5E',
  accessCode: 'AB3C-DEF7-GHJK',
  verificationUrl: URL_,
};

/** The exact lời chứng of docs/domain.md with the values of `spec`. */
const EXPECTED_LINES = [
  'Chứng thực bản sao đúng với bản chính.',
  'Số chứng thực: 1234    Quyển số: 01/2026-SCT/BS',
  'Ngày 05 tháng 03 năm 2026',
  'NGƯỜI THỰC HIỆN CHỨNG THỰC',
  'Phó Chủ tịch – Ủy ban nhân dân phường Hoàn Kiếm',
  'Nguyễn Thị Đào',
  'Bản sao điện tử được chứng thực từ bản chính, gồm 3 trang; chuyển đổi lúc 2026-03-05T09:12:00+07:00 bởi Trung tâm Phục vụ hành chính công thành phố Hà Nội.',
  'Mã tra cứu: K7Q2M9XW4TBD8RZC3NPV6HJY5E',
  'Mã truy cập: AB3C-DEF7-GHJK',
];

/** EXPECTED_LINES for a copy of `pages` pages ("gồm {n} trang" counts the copy). */
const linesFor = (pages: number) => EXPECTED_LINES.map((l, i) => (i === 6 ? l.replace('gồm 3 trang', `gồm ${pages} trang`) : l));

const collapse = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();

let wd: Workdir;
beforeAll(() => {
  wd = new Workdir();
});
afterAll(() => wd.remove());

async function stamp(pages: FixturePage[], s: StampSpec = spec): Promise<{ original: Uint8Array; out: StampedCopy; file: string }> {
  const original = await fixturePdf(pages);
  const out = await stampCopy(original, s);
  const file = wd.file(`stamped-${Math.random().toString(36).slice(2)}.pdf`, out.pdf);
  return { original, out, file };
}

/** Every line of the template output is in the page text; lines that fit are whole lines of it. */
function expectCertificationText(text: string, lines: string[], wrapped: string[] = []): void {
  const extractedLines = text.split('\n').map(collapse);
  const all = collapse(text);
  for (const line of lines) {
    if (wrapped.includes(line)) expect(all).toContain(collapse(line));
    else expect(extractedLines).toContain(collapse(line));
  }
}

describe('the certification stamp', () => {
  const A4: [number, number] = [595.2, 841.92];
  let result: Awaited<ReturnType<typeof stamp>>;
  beforeAll(async () => {
    result = await stamp([
      { size: A4, label: 'Trang mot' },
      { size: [419.5, 595.2], label: 'Trang hai' },
      { size: A4, label: 'Trang ba' },
    ]);
  });

  it('renders the default template as exactly the text of domain.md', () => {
    expect(Object.values(renderStampText(spec).lines)).toEqual(EXPECTED_LINES);
    expect(renderStampText(spec).footer(2, 3)).toBe('Số chứng thực 1234, trang 2/3');
  });

  it('writes a file qpdf finds clean, with the fonts embedded as subsets', () => {
    expect(qpdfCheck(result.file)).toMatchObject({ ok: true });
    const fonts = pdffonts(result.file);
    expect(fonts).toMatch(/[A-Z]{6}\+DejaVuSans\s+CID TrueType\s+Identity-H\s+yes yes yes/);
    expect(fonts).toMatch(/[A-Z]{6}\+DejaVuSans-Bold\s+CID TrueType\s+Identity-H\s+yes yes yes/);
  });

  it('embeds the same font subsets whatever the number, date and public code (encoded once per process)', async () => {
    const fontNames = (file: string) => [...pdffonts(file).matchAll(/([A-Z]{6})\+(DejaVuSans\S*)/g)].map((m) => `${m[1]}+${m[2]}`).sort();
    const other = await stamp([{ size: A4, label: 'Trang mot' }, { size: [419.5, 595.2], label: 'Trang hai' }, { size: A4, label: 'Trang ba' }], {
      ...spec,
      certificationNumber: 98_765,
      date: '2027-12-31',
      conversion: { ...spec.conversion, at: '2027-12-31T23:59:58+07:00' },
      // I, L, O and U are in base32 (RFC 4648) but not in Crockford's alphabet.
      publicCode: 'ILOUILOUABCDEFGHIJKLMNOPQRSTUVWX',
      accessCode: 'ZZ9Z-8Y7X-6WVT',
      verificationUrl: 'https://tracuu.example.gov.vn/c/ILOUILOUABCDEFGHIJKLMNOPQRSTUVWX',
    });
    expect(fontNames(other.file)).toHaveLength(2);
    expect(fontNames(other.file)).toEqual(fontNames(result.file));
  });

  it('counts the copy\'s own pages in "gồm {n} trang", whatever page count the officer gave for the original', async () => {
    const { file } = await stamp([{ size: A4, label: 'Mot' }, { size: A4, label: 'Hai' }], { ...spec, originalPages: 5 });
    const text = collapse(pdftotext(file, 2));
    expect(text).toContain('gồm 2 trang;');
    expect(text).not.toContain('gồm 5 trang');
  });

  it('puts the certification text on the last page, diacritics exact', () => {
    const text = pdftotext(result.file, 3);
    expectCertificationText(text, EXPECTED_LINES, [EXPECTED_LINES[6]!]);
    for (const p of [1, 2]) expect(collapse(pdftotext(result.file, p))).not.toContain('Chứng thực bản sao');
  });

  it('leaves the access code line out when the copy has none', async () => {
    const { accessCode: _none, ...withoutCode } = spec;
    expect(renderStampText(withoutCode).lines.accessCode).toBe('');
    const bare = await stamp([{ size: A4, label: 'Trang mot' }], withoutCode);
    const text = collapse(pdftotext(bare.file, 1));
    expect(text).toContain('Mã tra cứu: K7Q2M9XW4TBD8RZC3NPV6HJY5E');
    expect(text).not.toContain('Mã truy cập');
  });

  it('puts the footer "Số chứng thực …, trang x/y" on every page', () => {
    for (const p of [1, 2, 3]) expect(pdftotext(result.file, p).split('\n').map(collapse)).toContain(`Số chứng thực 1234, trang ${p}/3`);
  });

  it('has a QR code that zbarimg reads at 150 dpi as exactly the verification URL', () => {
    const png = wd.file('qr.png', rasterize(wd, result.out.pdf, 3, 'png', 150));
    expect(zbarDecode(png)).toEqual([URL_]);
    // No QR on the other pages.
    expect(zbarDecode(wd.file('qr1.png', rasterize(wd, result.out.pdf, 1, 'png', 150)))).toEqual([]);
  });

  it('extends each page below its content instead of covering or shrinking it', () => {
    const before = pdfinfoPageSizes(wd.file('orig.pdf', result.original));
    const after = pdfinfoPageSizes(result.file);
    for (const i of [0, 1, 2]) {
      expect(after[i]![0]).toBeCloseTo(before[i]![0], 3); // same width: 100 % scale
      expect(after[i]![1]).toBeGreaterThan(before[i]![1]);
    }
    expect(after[0]![1] - before[0]![1]).toBe(18); // the footer band
    expect(after[2]![1] - before[2]![1]).toBeGreaterThan(150); // footer and certification block
    // Rendered at 144 dpi (bands are whole quarter inches, so whole pixels), the original area is unchanged.
    for (const p of [1, 2, 3]) {
      const a = parsePnm(rasterize(wd, result.original, p, 'ppm', 144));
      const b = parsePnm(rasterize(wd, result.out.pdf, p, 'ppm', 144));
      expect(b.height).toBeGreaterThan(a.height);
      expect(compareTopRows(a, b, a.height)).toEqual({ maxDiff: 0, differing: 0 });
    }
  });

  it('returns signature places on the last page, inside the band, apart from each other', () => {
    const { certifier, seal } = result.out.signatureRects;
    expect(certifier.page).toBe(3);
    expect(seal.page).toBe(3);
    const [w, h] = pdfinfoPageSizes(result.file)[2]!;
    const band = h - 841.92;
    for (const r of [certifier.rect, seal.rect]) {
      // The new page box starts at y = -band (the MediaBox grew downwards); the original starts at 0.
      expect(r[0]).toBeGreaterThanOrEqual(0);
      expect(r[2]).toBeLessThanOrEqual(w);
      expect(r[1]).toBeGreaterThanOrEqual(-band);
      expect(r[3]).toBeLessThanOrEqual(0);
      expect(r[2] - r[0]).toBeGreaterThan(50);
      expect(r[3] - r[1]).toBeGreaterThan(40);
    }
    const overlap = !(certifier.rect[2] <= seal.rect[0] || seal.rect[2] <= certifier.rect[0] || certifier.rect[3] <= seal.rect[1] || seal.rect[3] <= certifier.rect[1]);
    expect(overlap).toBe(false);
  });
});

describe('page shapes', () => {
  it('a rotated last page gets its band at the visual bottom, text upright and the original area untouched', async () => {
    const { original, out, file } = await stamp([{ size: [595.2, 841.92], label: 'Xoay', rotate: 90 }]);
    expect(qpdfCheck(file)).toMatchObject({ ok: true });
    const a = parsePnm(rasterize(wd, original, 1, 'ppm', 144));
    const b = parsePnm(rasterize(wd, out.pdf, 1, 'ppm', 144));
    expect(b.width).toBe(a.width); // displayed landscape, same width
    expect(compareTopRows(a, b, a.height)).toEqual({ maxDiff: 0, differing: 0 });
    expectCertificationText(pdftotext(file, 1), linesFor(1), [linesFor(1)[6]!]);
    expect(zbarDecode(wd.file('rot.png', rasterize(wd, out.pdf, 1, 'png', 150)))).toEqual([URL_]);
    // /Rotate 90: the visual bottom is the user-space right edge, so the places lie right of x = 595.2.
    expect(out.signatureRects.certifier.rect[0]).toBeGreaterThanOrEqual(595.2);
    expect(out.signatureRects.seal.rect[0]).toBeGreaterThanOrEqual(595.2);
  });

  it('a narrow page gets one column, still complete', async () => {
    const { original, out, file } = await stamp([{ size: [300, 420], label: 'Hep' }]);
    expect(qpdfCheck(file)).toMatchObject({ ok: true });
    const text = pdftotext(file, 1);
    expectCertificationText(text, linesFor(1), [linesFor(1)[4]!, linesFor(1)[6]!]);
    expect(zbarDecode(wd.file('narrow.png', rasterize(wd, out.pdf, 1, 'png', 150)))).toEqual([URL_]);
    const a = parsePnm(rasterize(wd, original, 1, 'ppm', 144));
    const b = parsePnm(rasterize(wd, out.pdf, 1, 'ppm', 144));
    expect(compareTopRows(a, b, a.height)).toEqual({ maxDiff: 0, differing: 0 });
  });
});

describe('templates and refusals', () => {
  it('takes per-tenant wording and the -SCTĐT/BS suffix (Đ extracted as U+0110)', async () => {
    const template = {
      ...DEFAULT_STAMP_TEMPLATE,
      lines: { ...DEFAULT_STAMP_TEMPLATE.lines, statement: 'Chứng thực bản sao điện tử đúng với bản chính.' },
      footer: 'SCT {number} – trang {page} trên {pageCount}',
    };
    const s = { ...spec, registerVolume: '07/2026-SCTĐT/BS', template };
    const { file } = await stamp([{ size: [595.2, 841.92], label: 'x' }], s);
    const text = pdftotext(file, 1);
    const lines = text.split('\n').map(collapse);
    expect(collapse(text)).toContain('Chứng thực bản sao điện tử đúng với bản chính.'); // wrapped in the left column
    expect(lines).toContain('Số chứng thực: 1234 Quyển số: 07/2026-SCTĐT/BS');
    expect(lines.join('\n')).not.toContain('\u00d0'); // Ð (eth) would mean a glyph shared with Đ leaked into /ToUnicode
    expect(lines).toContain('SCT 1234 – trang 1 trên 1');
  });

  const refuse = async (s: StampSpec, code: string) => {
    const pdf = await fixturePdf([{ size: [200, 200], label: 'x' }]);
    const err = await stampCopy(pdf, s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StampError);
    expect(err).toBeInstanceOf(InputError);
    expect((err as StampError).code).toBe(code);
  };

  it('refuses a QR URL that is not https', () => refuse({ ...spec, verificationUrl: 'http://tracuu.example.gov.vn/c/X' }, 'stamp-invalid-spec'));
  it('refuses a malformed date or conversion time', async () => {
    await refuse({ ...spec, date: '05/03/2026' }, 'stamp-invalid-spec');
    await refuse({ ...spec, conversion: { ...spec.conversion, at: '2026-03-05 09:12' } }, 'stamp-invalid-spec');
  });
  it('refuses an unknown placeholder', () =>
    refuse({ ...spec, template: { ...DEFAULT_STAMP_TEMPLATE, footer: 'Số {so}, trang {page}/{pageCount}' } }, 'stamp-invalid-template'));
  it('refuses a character the font cannot show', () => refuse({ ...spec, certifier: { ...spec.certifier, name: '阮氏桃' } }, 'stamp-glyph-missing'));
});

describe('pages that share one /Contents array', () => {
  it('each page gets its own stamp and footer, not every page\'s', async () => {
    const src = await PDFDocument.create();
    const pages = [0, 1, 2].map(() => src.addPage([595.2, 841.92]));
    const ctx = src.context;
    const sharedContents = ctx.register(ctx.obj([ctx.register(ctx.stream('0 0 1 rg 10 10 20 20 re f'))]));
    for (const p of pages) p.node.set(PDFName.of('Contents'), sharedContents);
    const scan = await normalizeScan([{ bytes: await src.save({ useObjectStreams: false }) }]);
    const out = await stampCopy(scan.pdf, spec);
    const file = wd.file('shared-contents.pdf', out.pdf);
    const footer = (page: number) => collapse(pdftotext(file, page)).match(/trang \d\/3/g) ?? [];
    expect([footer(1), footer(2), footer(3)]).toEqual([['trang 1/3'], ['trang 2/3'], ['trang 3/3']]);
    expect(collapse(pdftotext(file, 1))).not.toContain('Chứng thực bản sao đúng với bản chính');
  });
});

describe('intake then stamp', () => {
  it('a 3-page JPEG scan keeps its JPEG bytes through the stamp', async () => {
    const source = await fixturePdf([
      { size: [595.2, 841.92], label: 'Mot' },
      { size: [595.2, 841.92], label: 'Hai' },
      { size: [595.2, 841.92], label: 'Ba' },
    ]);
    const jpegs = [1, 2, 3].map((p) => rasterize(wd, source, p, 'jpeg', 100));
    const scan = await normalizeScan(jpegs.map((bytes) => ({ bytes })));
    const out = await stampCopy(scan.pdf, spec);
    const file = wd.file('jpeg-stamped.pdf', out.pdf);
    expect(qpdfCheck(file)).toMatchObject({ ok: true });
    const images = pdfimagesList(file);
    const before = pdfimagesList(wd.file('jpeg-scan.pdf', scan.pdf));
    expect(images.map((i) => [i.page, i.enc, i.width, i.height])).toEqual(before.map((i) => [i.page, 'jpeg', i.width, i.height]));
    expect(images[0]!.width).toBe(827); // 8.27 in at 100 dpi
    const extracted = pdfimagesAll(wd, file);
    extracted.forEach((img, i) => expect(Buffer.compare(Buffer.from(img.bytes), Buffer.from(jpegs[i]!))).toBe(0));
    expectCertificationText(pdftotext(file, 3), EXPECTED_LINES, [EXPECTED_LINES[6]!]);
    expect(zbarDecode(wd.file('jq.png', rasterize(wd, out.pdf, 3, 'png', 150)))).toEqual([URL_]);
  });

  it('a PDF scan\'s annotations are drawn into the page, clipped to it: what they show inside stays, one reaching below cannot cover the stamp band', async () => {
    const src = await PDFDocument.create();
    const page = src.addPage([595.2, 841.92]);
    page.drawText('Ban chinh', { x: 100, y: 700, size: 20 });
    const ctx = src.context;
    // An opaque white box, placed under the page where the band will grow.
    const ap = ctx.register(ctx.stream('1 g -1000 -1000 3000 1000 re f', { Type: 'XObject', Subtype: 'Form', BBox: [-1000, -1000, 2000, 0] }));
    const annot = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Square', Rect: [-1000, -1000, 2000, 0], F: 4, AP: { N: ap } }));
    // A stamp inside the page (a seal image, say): a black square drawn by a form scaled into its /Rect.
    const seal = ctx.register(ctx.stream('0 g 0 0 10 10 re f', { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 10, 10] }));
    const stamp = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Stamp', Rect: [100, 100, 200, 200], F: 4, AP: { N: seal } }));
    // A hidden one (flag 2) draws nothing.
    const hiddenAp = ctx.register(ctx.stream('0 g 0 0 10 10 re f', { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 10, 10] }));
    const hidden = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Stamp', Rect: [300, 100, 400, 200], F: 2, AP: { N: hiddenAp } }));
    page.node.set(PDFName.of('Annots'), ctx.obj([annot, stamp, hidden]));
    page.node.set(PDFName.of('AA'), ctx.obj({ O: ctx.obj({ S: 'JavaScript', JS: PDFString.of('app.alert(1)') }) }));
    const withAnnots = await src.save();
    // The cover works: stamped as it is (not through intake), the QR code cannot be read.
    const covered = await stampCopy(withAnnots, spec);
    expect(zbarDecode(wd.file('covered.png', rasterize(wd, covered.pdf, 1, 'png', 150)))).toEqual([]);
    // Through intake, no annotation or page action is left, and the stamp shows.
    const scan = await normalizeScan([{ bytes: withAnnots }]);
    const scanPage = (await PDFDocument.load(scan.pdf)).getPage(0).node;
    expect(scanPage.get(PDFName.of('Annots'))).toBeUndefined();
    expect(scanPage.get(PDFName.of('AA'))).toBeUndefined();
    expect(Buffer.from(scan.pdf).includes('app.alert')).toBe(false);
    const out = await stampCopy(scan.pdf, spec);
    expect(zbarDecode(wd.file('uncovered.png', rasterize(wd, out.pdf, 1, 'png', 150)))).toEqual([URL_]);
    // What the visible annotation showed is in the page: black at (150, 150) pt, white where the hidden one was.
    const img = parsePnm(rasterize(wd, scan.pdf, 1, 'ppm', 72));
    const at = (x: number, y: number) => img.pixels[((img.height - 1 - y) * img.width + x) * 3]!;
    expect(at(150, 150)).toBeLessThan(50);
    expect(at(350, 150)).toBeGreaterThan(200);
  });
});
