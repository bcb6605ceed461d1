/**
 * The copy page reuses its fixed text (per language, status and check results) across copies: each
 * page must carry its own copy's values and nothing of another's, escaped, and JSON answers must hold
 * the same facts as the page.
 */
import { describe, expect, it } from 'vitest';
import { publicCopyJson, type CopyAssessment } from '../../src/http/routes/verification/assessment.ts';
import { loadWebAssets } from '../../src/http/routes/verification/assets.ts';
import { renderCopyPage } from '../../src/http/routes/verification/presenter.ts';
import type { PublicCopyView } from '../../src/registry/index.ts';

const assets = loadWebAssets();

function view(over: Partial<PublicCopyView>): PublicCopyView {
  return {
    status: 'valid',
    number: 1,
    volume: '01/2026-SCT/BS',
    certifiedAt: new Date('2026-03-02T03:00:00Z'),
    agency: 'UBND xã A',
    certifierName: 'Nguyễn Văn A',
    certifierTitle: 'Chủ tịch',
    documentType: 'Giấy khai sinh',
    originalPages: 2,
    pdfSha256: 'a'.repeat(64),
    signerCertificate: { issuer: 'CN=Dev Issuing CA', serial: '01', subject: 'CN=Nguyễn Văn A' },
    agencyCertificate: null,
    timestampAt: new Date('2026-03-02T03:00:05Z'),
    annulment: null,
    ...over,
  };
}

const passed: CopyAssessment = {
  integrity: { outcome: 'VALID', reason: 'intact' },
  status: { outcome: 'VALID', reason: 'valid' },
  issuer: { outcome: 'VALID', reason: 'trusted' },
  signatures: [
    { kind: 'signature', signer: 'CN=Nguyễn Văn A', signerIssuer: 'CN=Dev Issuing CA', indication: 'TOTAL-PASSED', subIndication: null, timestampTime: '2026-03-02T03:00:05Z', chainTrusted: true, revocation: { status: 'passed', detail: 'good' } },
  ],
};

const page = (code: string, v: PublicCopyView, a: CopyAssessment, lang: 'vi' | 'en' = 'vi', access: Parameters<typeof renderCopyPage>[4] = { kind: 'locked' }) =>
  renderCopyPage({ lang, assets, path: `/v/${code}` }, code, v, a, access).toString('utf8');

describe('the copy page', () => {
  it('shows the certification date and the timestamp in Việt Nam time (UTC+7), across a day boundary', () => {
    const p = page('DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD', view({ certifiedAt: new Date('2026-12-31T17:30:00Z'), timestampAt: new Date('2026-12-31T17:30:05Z') }), passed);
    expect(p).toContain('<dd>01/01/2027</dd>');
    expect(p).toContain('<dd>00:30:05 01/01/2027 (UTC+7)</dd>');
  });

  it('carries each copy its own values when the fixed text is reused', () => {
    const a = page('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', view({ number: 11, agency: 'UBND xã A', pdfSha256: 'a'.repeat(64) }), passed);
    const b = page('BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', view({ number: 22, agency: 'UBND phường B', pdfSha256: 'b'.repeat(64), certifierName: 'Lê Thị B' }), passed);
    expect(b).toContain('<dd>22</dd>');
    expect(b).toContain('UBND phường B');
    expect(b).toContain('Lê Thị B');
    expect(b).toContain(`data-sha256="${'b'.repeat(64)}"`);
    expect(b).toContain('action="/v/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/validation"');
    expect(b).toContain('action="/v/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/access"');
    expect(b).toContain('href="/v/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB?lang=en"');
    for (const other of ['AAAAAAAA', 'UBND xã A', 'a'.repeat(64), '<dd>11</dd>']) expect(b).not.toContain(other);
    expect(a).toContain('<dd>11</dd>');
    expect(a).not.toContain('\u0000');
    expect(b).not.toContain('\u0000');
  });

  it('gives every page its own bytes: pages kept while many more are rendered stay intact', () => {
    const code = (i: number) => String(i).padStart(4, '0').replace(/\d/g, (d) => 'ABCDEFGHIJ'[Number(d)]!).repeat(8);
    const pages = Array.from({ length: 120 }, (_, i) => renderCopyPage({ lang: 'vi', assets, path: `/v/${code(i)}` }, code(i), view({ number: 1000 + i }), passed, { kind: 'locked' }));
    pages.forEach((bytes, i) => {
      const html = bytes.toString('utf8');
      expect(html).toContain(`<dd>${1000 + i}</dd>`);
      expect(html).toContain(`action="/v/${code(i)}/access"`);
      expect(html.endsWith('</html>')).toBe(true);
    });
  });

  it('escapes the copy values put into the reused text, in both languages and every state', () => {
    const hostile = '<script>alert(1)</script>';
    const annulled = view({ status: 'annulled', agency: hostile, annulment: { decisionNumber: '12/QĐ', decisionDate: '2026-04-01', reason: `lý do ${hostile}` } });
    const failed: CopyAssessment = { ...passed, status: { outcome: 'INVALID', reason: 'annulled' } };
    for (const lang of ['vi', 'en'] as const) {
      const html = page('CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC', annulled, failed, lang, {
        kind: 'unlocked',
        unlocked: { requesterName: hostile, documentName: 'Giấy', viewUrl: '/v/x/file?t=1', downloadUrl: '/v/x/file?t=1&download=1', ttlMinutes: 10 },
      });
      expect(html).not.toContain('<script>alert');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toContain('data-status="annulled"');
      expect(html).toContain('12/QĐ');
      expect(html).toContain(`<html lang="${lang}">`);
      expect(html).toContain(lang === 'vi' ? 'href="/v/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC?lang=en"' : 'href="/v/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"');
    }
  });

  it('answers programs with the same facts as JSON', () => {
    const v = view({ number: 7 });
    const json = JSON.parse(publicCopyJson(Buffer.from(JSON.stringify(v)), passed).toString('utf8')) as Record<string, unknown>;
    expect(json).toEqual(JSON.parse(JSON.stringify({ ...v, checks: { integrity: passed.integrity, status: passed.status, issuer: passed.issuer }, signatures: passed.signatures })));
  });

  it('reuses the encoded tail per file and checks, never mixing up checks', () => {
    const v = Buffer.from(JSON.stringify(view({ number: 8 })));
    const annulled = { ...passed, status: { outcome: 'INVALID', reason: 'annulled' } } as const;
    for (let i = 0; i < 3; i++) {
      expect((JSON.parse(publicCopyJson(v, passed).toString('utf8')) as { checks: { status: unknown } }).checks.status).toEqual(passed.status);
      expect((JSON.parse(publicCopyJson(v, annulled).toString('utf8')) as { checks: { status: unknown } }).checks.status).toEqual(annulled.status);
    }
  });
});
