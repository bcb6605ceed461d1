import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_STAMP_TEMPLATE,
  StampError,
  parseStampTemplate,
  renderStampText,
  stampCopy,
  type StampSpec,
} from '../../src/stamp/index.ts';
import { Workdir, fixturePdf, pdftotext, rasterize, zbarDecode } from './helpers.ts';

const URL_ = 'https://tracuu.example.gov.vn/v/K7Q2M9XW4TBD8RZC3NPV6HJY5E';
const spec: StampSpec = {
  certificationNumber: 77,
  registerVolume: '02/2026-SCTĐT/BS',
  date: '2026-11-20',
  certifier: { title: 'Chủ tịch', name: 'Trần Văn Bình' },
  agency: 'Ủy ban nhân dân xã Tân Phú',
  originalPages: 2,
  conversion: { at: '2026-11-20T08:00:00+07:00', by: 'Trung tâm Phục vụ hành chính công tỉnh' },
  publicCode: 'K7Q2M9XW4TBD8RZC3NPV6HJY5E',
  verificationUrl: URL_,
};
const collapse = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();

function refused(json: string): StampError {
  try {
    parseStampTemplate(json);
  } catch (err) {
    expect(err).toBeInstanceOf(StampError);
    expect((err as StampError).code).toBe('stamp-invalid-template');
    expect((err as StampError).status).toBe(422);
    return err as StampError;
  }
  throw new Error(`accepted: ${json}`);
}

let wd: Workdir;
beforeAll(() => {
  wd = new Workdir();
});
afterAll(() => wd.remove());

describe('parseStampTemplate', () => {
  it('an empty object is the default template, the exact text of domain.md', () => {
    const t = parseStampTemplate('{}');
    expect(t.lines).toEqual(DEFAULT_STAMP_TEMPLATE.lines);
    expect(t.footer).toBe('Số chứng thực {number}, trang {page}/{pageCount}');
    expect(renderStampText({ ...spec, template: t }).lines).toEqual(renderStampText(spec).lines);
    expect(t.lines.statement).toBe('Chứng thực bản sao đúng với bản chính.');
    expect(t.lines.certifierHeading).toBe('NGƯỜI THỰC HIỆN CHỨNG THỰC');
  });

  it('refuses a template that drops {number}, naming what is missing', () => {
    const err = refused(JSON.stringify({ lines: { numberAndVolume: 'Quyển số: {volume}' } }));
    expect(err.message).toContain('{number}');
    expect(err.details).toMatchObject({ missing: ['number'] });
  });

  it('refuses dropping the conversion marker, the code or the certifier', () => {
    expect(refused(JSON.stringify({ lines: { conversion: 'Bản sao điện tử, gồm {pages} trang.' } })).message).toMatch(/\{convertedAt\}.*\{converter\}/);
    expect(refused(JSON.stringify({ lines: { publicCode: 'Tra cứu bằng mã QR' } })).message).toContain('{code}');
    expect(refused(JSON.stringify({ lines: { certifierName: '' } })).message).toContain('{certifierName}');
  });

  it('prints the access code on its own line, which a tenant may leave out but not misuse', () => {
    const withCode = { ...spec, accessCode: 'AB3C-DEF7-GHJK' };
    expect(renderStampText(withCode).lines.accessCode).toBe('Mã truy cập: AB3C-DEF7-GHJK');
    expect(renderStampText(spec).lines.accessCode).toBe(''); // no access code: no line
    const off = parseStampTemplate(JSON.stringify({ lines: { accessCode: '' } }));
    expect(renderStampText({ ...withCode, template: off }).lines.accessCode).toBe('');
    const own = parseStampTemplate(JSON.stringify({ lines: { accessCode: 'Mã để mở bản sao: {accessCode}' } }));
    expect(renderStampText({ ...withCode, template: own }).lines.accessCode).toBe('Mã để mở bản sao: AB3C-DEF7-GHJK');
    expect(refused(JSON.stringify({ lines: { accessCode: 'Mã truy cập: xem giấy hẹn' } })).message).toContain('{accessCode}');
    expect(refused(JSON.stringify({ lines: { publicCode: 'Mã tra cứu: {code}, mã truy cập: {accessCode}' } })).message).toContain('lines.publicCode');
    expect(refused(JSON.stringify({ footer: 'Số {number}, trang {page}/{pageCount}, {accessCode}' })).message).toContain('footer');
  });

  it('lets a value move to another line', () => {
    const t = parseStampTemplate(JSON.stringify({ lines: { numberAndVolume: 'Số: {number}', date: 'Quyển số {volume}, ngày {dd}/{mm}/{yyyy}' } }));
    expect(renderStampText({ ...spec, template: t }).lines.date).toBe('Quyển số 02/2026-SCTĐT/BS, ngày 20/11/2026');
  });

  it('refuses a footer without the number or the page', () => {
    expect(refused(JSON.stringify({ footer: 'trang {page}/{pageCount}' })).message).toContain('{number}');
    expect(refused(JSON.stringify({ footer: 'Số {number}' })).message).toMatch(/\{page\}.*\{pageCount\}/);
  });

  it('refuses unknown placeholders, unknown keys, fonts, bad layout values and non-JSON', () => {
    expect(refused(JSON.stringify({ lines: { statement: 'Chứng thực {ngay}' } })).message).toContain('{ngay}');
    expect(refused(JSON.stringify({ lines: { seal: 'x' } })).message).toContain('lines');
    expect(refused(JSON.stringify({ fonts: { regular: '/etc/passwd', bold: '/etc/passwd' } })).message).toContain('fonts');
    expect(refused(JSON.stringify({ layout: { fontScale: 3 } })).message).toContain('layout.fontScale');
    expect(refused(JSON.stringify({ layout: { certifierSide: 'top' } })).message).toContain('layout.certifierSide');
    expect(refused(JSON.stringify({ lines: { statement: 'a\u0007b' } })).message).toContain('lines.statement');
    refused('{"lines":');
    refused('[]');
  });

  it('refuses a template object missing a mandatory placeholder when it is passed to stampCopy directly', async () => {
    const pdf = await fixturePdf([{ size: [300, 300], label: 'x' }]);
    const template = { ...DEFAULT_STAMP_TEMPLATE, lines: { ...DEFAULT_STAMP_TEMPLATE.lines, publicCode: 'Mã tra cứu: xem QR' } };
    await expect(stampCopy(pdf, { ...spec, template })).rejects.toMatchObject({ code: 'stamp-invalid-template' });
  });
});

describe('a custom template on the stamped copy', () => {
  it('changes the extracted text, the footer and the layout while keeping the QR', async () => {
    const template = parseStampTemplate(
      JSON.stringify({
        lines: {
          statement: 'CHỨNG THỰC BẢN SAO ĐIỆN TỬ',
          numberAndVolume: 'Số chứng thực {number} / Quyển {volume}',
          date: 'Tân Phú, ngày {dd} tháng {mm} năm {yyyy}',
          certifierHeading: 'NGƯỜI KÝ',
          certifierTitleAgency: '{certifierTitle}\n{agency}',
          conversion: 'Chuyển đổi lúc {convertedAt} bởi {converter}; bản chính gồm {pages} trang.',
          publicCode: 'Mã: {code}',
        },
        footer: 'SCT số {number} — tờ {page} của {pageCount}',
        layout: { certifierSide: 'left', fontScale: 1.1 },
      }),
    );
    const pdf = await fixturePdf([
      { size: [595.2, 841.92], label: 'Mot' },
      { size: [595.2, 841.92], label: 'Hai' },
    ]);
    const out = await stampCopy(pdf, { ...spec, template });
    const file = wd.file('custom.pdf', out.pdf);
    const text = pdftotext(file, 2);
    const lines = text.split('\n').map(collapse);
    for (const l of [
      'CHỨNG THỰC BẢN SAO ĐIỆN TỬ',
      'Số chứng thực 77 / Quyển 02/2026-SCTĐT/BS',
      'Tân Phú, ngày 20 tháng 11 năm 2026',
      'NGƯỜI KÝ',
      'Chủ tịch',
      'Ủy ban nhân dân xã Tân Phú',
      'Trần Văn Bình',
      'Mã: K7Q2M9XW4TBD8RZC3NPV6HJY5E',
    ]) {
      expect(lines).toContain(l);
    }
    expect(collapse(text)).toContain('Chuyển đổi lúc 2026-11-20T08:00:00+07:00 bởi Trung tâm Phục vụ hành chính công tỉnh; bản chính gồm 2 trang.');
    expect(collapse(text)).not.toContain('Chứng thực bản sao đúng với bản chính.');
    expect(lines).toContain('SCT số 77 — tờ 2 của 2');
    expect(pdftotext(file, 1).split('\n').map(collapse)).toContain('SCT số 77 — tờ 1 của 2');
    // Certifier on the left: both signature places lie left of the page's middle.
    for (const r of [out.signatureRects.certifier.rect, out.signatureRects.seal.rect]) expect(r[2]).toBeLessThan(595.2 / 2);
    expect(zbarDecode(wd.file('custom.png', rasterize(wd, out.pdf, 2, 'png', 150)))).toEqual([URL_]);
  });

  it('the default layout keeps the certifier on the right', async () => {
    const pdf = await fixturePdf([{ size: [595.2, 841.92], label: 'Mot' }]);
    const out = await stampCopy(pdf, { ...spec, template: parseStampTemplate('{}') });
    for (const r of [out.signatureRects.certifier.rect, out.signatureRects.seal.rect]) expect(r[0]).toBeGreaterThan(595.2 / 2);
  });
});
