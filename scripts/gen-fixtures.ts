/**
 * Generates small test PDFs into fixtures/generated/ (git-ignored): hand-built classic-xref files whose
 * offsets are computed here (independently of src/pdf, so the reader is tested against an outside
 * writer), plus qpdf rewrites for object streams, linearization and encryption.
 * Idempotent: `generateFixtures()` rebuilds everything in well under a second.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'generated');

export interface FixtureSet {
  classic: string;
  pdf13: string;
  pdf20: string;
  forms: string;
  pdfa: string;
  incremental: string;
  hybrid: string;
  objstm: string;
  linearized: string;
  encrypted: string;
}

const PAGE_CONTENT = 'BT /F1 24 Tf 72 720 Td (Hello chungthuc) Tj ET';

/** Joins numbered object bodies into a file with a classic xref table (ISO 32000-1 §7.5.4). */
function classicFile(version: string, bodies: Array<string | Buffer>, trailer: string): Buffer {
  const parts: Buffer[] = [Buffer.from(`%PDF-${version}\n%\xe2\xe3\xcf\xd3\n`, 'latin1')];
  let pos = parts[0]!.length;
  const offsets: number[] = [];
  bodies.forEach((b, i) => {
    offsets.push(pos);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), Buffer.isBuffer(b) ? b : Buffer.from(b, 'latin1'), Buffer.from('\nendobj\n')]);
    parts.push(chunk);
    pos += chunk.length;
  });
  const xref = [`xref\n0 ${bodies.length + 1}\n0000000000 65535 f\r\n`];
  for (const o of offsets) xref.push(`${String(o).padStart(10, '0')} 00000 n\r\n`);
  xref.push(`trailer\n<< /Size ${bodies.length + 1} ${trailer} >>\nstartxref\n${pos}\n%%EOF\n`);
  parts.push(Buffer.from(xref.join(''), 'latin1'));
  return Buffer.concat(parts);
}

const stream = (dict: string, data: string | Buffer): Buffer => {
  const d = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  return Buffer.concat([Buffer.from(`<< ${dict} /Length ${d.length} >>\nstream\n`), d, Buffer.from('\nendstream')]);
};

const ID = '/ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]';

function onePage(version: string): Buffer {
  return classicFile(
    version,
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
      stream('', PAGE_CONTENT),
      '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
      '<< /Producer (chungthuc fixtures) >>',
    ],
    `/Root 1 0 R /Info 6 0 R ${ID}`,
  );
}

/**
 * A one-page file declaring PDF/A-2B conformance in XMP (ISO 19005-2 §6.6.4: pdfaid:part/conformance)
 * with a catalog /Metadata stream, as archival scans arrive. Only the declaration matters here: the
 * signer must keep it (the catalog's /Metadata survives the update) and stay incremental.
 */
function pdfaFile(): Buffer {
  const xmp = [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>',
    '</rdf:RDF></x:xmpmeta>',
    '<?xpacket end="w"?>',
  ].join('\n');
  return classicFile(
    '1.7',
    [
      '<< /Type /Catalog /Pages 2 0 R /Metadata 7 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
      stream('', PAGE_CONTENT),
      '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
      '<< /Producer (chungthuc fixtures) >>',
      stream('/Type /Metadata /Subtype /XML', Buffer.from(xmp, 'utf8')),
    ],
    `/Root 1 0 R /Info 6 0 R ${ID}`,
  );
}

/**
 * Three pages under a nested page tree with inherited MediaBox/Rotate/Resources (§7.7.3.4), and a
 * form with signature fields: a top-level unsigned /Sig field with a separate widget kid, and a
 * parent text-less node "grp" whose child "inner" is a merged field/widget with a /Lock.
 */
function formsFile(): Buffer {
  return classicFile(
    '1.7',
    [
      /* 1 */ '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 9 0 R] /SigFlags 3 >> >>',
      /* 2 */ '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox [0 0 595 842] /Resources << /Font << /F1 12 0 R >> >> >>',
      /* 3 */ '<< /Type /Page /Parent 2 0 R /Contents 6 0 R /Annots [8 0 R] >>',
      /* 4 */ '<< /Type /Pages /Parent 2 0 R /Kids [5 0 R 11 0 R] /Count 2 /Rotate 90 >>',
      /* 5 */ '<< /Type /Page /Parent 4 0 R /Contents 6 0 R /MediaBox [0 0 100 200] /Annots [10 0 R] >>',
      /* 6 */ stream('', PAGE_CONTENT),
      /* 7 */ '<< /FT /Sig /T (Sig1) /Kids [8 0 R] >>',
      /* 8 */ '<< /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /Parent 7 0 R /P 3 0 R /F 132 >>',
      /* 9 */ '<< /T (grp) /Kids [10 0 R] >>',
      /* 10 */ '<< /FT /Sig /T (inner) /Parent 9 0 R /Type /Annot /Subtype /Widget /Rect [10 10 110 60] /Lock 13 0 R >>',
      /* 11 */ '<< /Type /Page /Parent 4 0 R /Contents 6 0 R /Rotate 180 >>',
      /* 12 */ '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
      /* 13 */ '<< /Type /SigFieldLock /Action /All >>',
    ],
    `/Root 1 0 R ${ID}`,
  );
}

/** Appends one hand-written incremental update that replaces the Info dictionary (§7.5.6). */
function withUpdate(base: Buffer): Buffer {
  const text = base.toString('latin1');
  const prev = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)?.[1]);
  const objOff = base.length;
  const obj = '6 0 obj\n<< /Producer (chungthuc fixtures, updated) >>\nendobj\n';
  const xrefOff = objOff + obj.length;
  const tail = `xref\n6 1\n${String(objOff).padStart(10, '0')} 00000 n\r\ntrailer\n<< /Size 7 /Root 1 0 R /Info 6 0 R /Prev ${prev} ${ID} >>\nstartxref\n${xrefOff}\n%%EOF\n`;
  return Buffer.concat([base, Buffer.from(obj + tail, 'latin1')]);
}

/**
 * A hybrid-reference file (§7.5.8.4): a classic table for objects 1–3 and 6–7, whose trailer's
 * /XRefStm points at an (uncompressed) xref stream that lists objects 4 and 5 inside object stream 6.
 */
function hybridFile(): Buffer {
  const head = Buffer.from('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const parts: Buffer[] = [head];
  let pos = head.length;
  const off: Record<number, number> = {};
  const add = (num: number, body: Buffer | string) => {
    off[num] = pos;
    const b = Buffer.concat([Buffer.from(`${num} 0 obj\n`), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
    parts.push(b);
    pos += b.length;
  };
  add(1, '<< /Type /Catalog /Pages 2 0 R >>');
  add(2, '<< /Type /Pages /Kids [4 0 R] /Count 1 >>');
  add(3, stream('', PAGE_CONTENT));
  const o4 = '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 5 0 R >> >> >>';
  const o5 = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  const header = `4 0 5 ${o4.length + 1} `;
  add(6, stream(`/Type /ObjStm /N 2 /First ${header.length}`, `${header}${o4}\n${o5}`));
  // xref stream (object 7): W [1 4 2], entries for 4, 5 (in 6), 6, 7.
  const xrefStmOff = pos;
  const row = (t: number, a: number, b: number) => Buffer.from([t, (a >>> 24) & 255, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, (b >> 8) & 255, b & 255]);
  const data = Buffer.concat([row(2, 6, 0), row(2, 6, 1), row(1, off[6]!, 0), row(1, xrefStmOff, 0)]);
  add(7, stream('/Type /XRef /Size 8 /W [1 4 2] /Index [4 4]', data));
  const xrefOff = pos;
  let xref = 'xref\n0 4\n0000000000 65535 f\r\n';
  for (const n of [1, 2, 3]) xref += `${String(off[n]).padStart(10, '0')} 00000 n\r\n`;
  xref += '6 2\n';
  for (const n of [6, 7]) xref += `${String(off[n]).padStart(10, '0')} 00000 n\r\n`;
  xref += `trailer\n<< /Size 8 /Root 1 0 R /XRefStm ${xrefStmOff} ${ID} >>\nstartxref\n${xrefOff}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

function qpdf(args: string[]): void {
  try {
    execFileSync('qpdf', args, { stdio: 'pipe' });
  } catch (e) {
    // Exit status 3 = success with warnings; anything else is a real failure.
    if ((e as { status?: number }).status !== 3) throw e;
  }
}

export function generateFixtures(dir = FIXTURE_DIR): FixtureSet {
  mkdirSync(dir, { recursive: true });
  const p = (n: string) => path.join(dir, n);
  const set: FixtureSet = {
    classic: p('classic.pdf'),
    pdf13: p('pdf13.pdf'),
    pdf20: p('pdf20.pdf'),
    forms: p('forms.pdf'),
    pdfa: p('pdfa.pdf'),
    incremental: p('incremental.pdf'),
    hybrid: p('hybrid.pdf'),
    objstm: p('objstm.pdf'),
    linearized: p('linearized.pdf'),
    encrypted: p('encrypted.pdf'),
  };
  writeFileSync(set.classic, onePage('1.7'));
  writeFileSync(set.pdf13, onePage('1.3'));
  writeFileSync(set.pdf20, onePage('2.0'));
  writeFileSync(set.forms, formsFile());
  writeFileSync(set.pdfa, pdfaFile());
  writeFileSync(set.incremental, withUpdate(onePage('1.7')));
  writeFileSync(set.hybrid, hybridFile());
  qpdf(['--object-streams=generate', set.forms, set.objstm]);
  qpdf(['--linearize', set.forms, set.linearized]);
  qpdf(['--encrypt', '', 'owner', '256', '--', set.classic, set.encrypted]);
  return set;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const set = generateFixtures();
  for (const [k, v] of Object.entries(set)) console.log(`${k}: ${v}`);
}
