import { readFileSync } from 'node:fs';
import { createDeflate, deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FixtureSet, generateFixtures } from '../../scripts/gen-fixtures.ts';
import { PdfDict, PdfDocument, PdfError, PdfName, PdfStream, decodeStream } from '../../src/pdf/index.ts';
import { valueBomb } from '../support/classicPdf.ts';
import { CORPUS } from './helpers.ts';

let fx: FixtureSet;
beforeAll(() => {
  fx = generateFixtures();
});

/** Opens and reads everything reachable; returns 'ok' or the PdfError code, rethrows anything else. */
function exercise(bytes: Uint8Array): string {
  try {
    const doc = PdfDocument.open(bytes);
    void doc.pageCount;
    void doc.signatureFields();
    for (const n of doc.objectNumbers()) {
      const v = doc.getObject(n);
      if (v instanceof PdfStream) decodeStream(v);
    }
    return 'ok';
  } catch (e) {
    if (e instanceof PdfError) return e.code;
    throw e;
  }
}

/** A one-object classic file around `body` (object 1 is the catalog, object 2 the payload). */
function fileWith(body: string | Buffer, extraTrailer = ''): Buffer {
  const head = Buffer.from('%PDF-1.7\n');
  const o1 = Buffer.from('1 0 obj\n<< /Type /Catalog /Pages 3 0 R /X 2 0 R >>\nendobj\n');
  const o2 = Buffer.concat([Buffer.from('2 0 obj\n'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
  const o3 = Buffer.from('3 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n');
  const off1 = head.length;
  const off2 = off1 + o1.length;
  const off3 = off2 + o2.length;
  const xrefAt = off3 + o3.length;
  const pad = (n: number) => `${String(n).padStart(10, '0')} 00000 n\r\n`;
  const xref = `xref\n0 4\n0000000000 65535 f\r\n${pad(off1)}${pad(off2)}${pad(off3)}trailer\n<< /Size 4 /Root 1 0 R ${extraTrailer}>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.concat([head, o1, o2, o3, Buffer.from(xref)]);
}

/** Deterministic PRNG so failures are reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('hostile input', () => {
  it('truncated files end with a PdfError or a result, never another exception', () => {
    for (const f of [fx.classic, fx.forms, fx.objstm, fx.linearized, fx.hybrid, fx.incremental]) {
      const bytes = readFileSync(f);
      const codes = new Set<string>();
      for (let cut = 0; cut < bytes.length; cut += 23) codes.add(exercise(bytes.subarray(0, cut)));
      expect([...codes].every((c) => c === 'ok' || c.startsWith('pdf-'))).toBe(true);
      expect(exercise(bytes.subarray(0, 3))).toBe('pdf-not-a-pdf');
    }
  });

  it('randomly corrupted files end with a PdfError or a result', () => {
    const rnd = prng(42);
    for (const f of [fx.forms, fx.objstm, fx.linearized, fx.hybrid]) {
      const orig = readFileSync(f);
      for (let k = 0; k < 150; k++) {
        const b = Buffer.from(orig);
        const flips = 1 + Math.floor(rnd() * 8);
        for (let i = 0; i < flips; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        const code = exercise(b);
        expect(code === 'ok' || code.startsWith('pdf-'), code).toBe(true);
      }
    }
  });

  it('garbage is not a PDF; garbage with a header is malformed', () => {
    const rnd = prng(7);
    const junk = Buffer.from(Array.from({ length: 5000 }, () => Math.floor(rnd() * 256)));
    expect(exercise(junk)).toBe('pdf-not-a-pdf');
    expect(exercise(Buffer.concat([Buffer.from('%PDF-1.7\n'), junk]))).toBe('pdf-malformed');
    expect(exercise(Buffer.concat([Buffer.from('%PDF-1.7\n'), junk, Buffer.from('\nstartxref\n12\n%%EOF')]))).toBe('pdf-malformed');
  });

  it('100k-deep nesting stops at the depth limit', () => {
    const doc = PdfDocument.open(fileWith('['.repeat(100_000)));
    try {
      doc.getObject(2);
      expect.unreachable();
    } catch (e) {
      expect((e as PdfError).code).toBe('pdf-limit-exceeded');
    }
    expect(exercise(fileWith('<< /A '.repeat(50_000)))).toBe('pdf-limit-exceeded');
  });

  it('many objects each just under the container limit stop at the document\'s value budget', () => {
    // Five objects of 1M empty arrays: 10 MB of file, which unbounded would take about 250 MB of heap.
    const bytes = valueBomb(5, 1_000_000, 'acroform'); // objects 4–8

    const doc = PdfDocument.open(bytes, { maxParsedValues: 2_500_000 });
    const read = () => [4, 5, 6, 7, 8].forEach((k) => doc.getObject(k));
    expect(read).toThrow(expect.objectContaining({ code: 'pdf-limit-exceeded', message: expect.stringMatching(/more than 2500000 values/) }));
    // The signing path meets it through /Fields, like any other reader.
    expect(() => PdfDocument.open(bytes, { maxParsedValues: 2_500_000 }).signatureFields()).toThrow(expect.objectContaining({ code: 'pdf-limit-exceeded' }));
    // With room for them, the same objects read fine: the budget counts values, nothing else.
    expect(() => [4, 5, 6, 7, 8].forEach((k) => PdfDocument.open(bytes, { maxParsedValues: 6_000_000 }).getObject(k))).not.toThrow();
    // Trailers count too (each update of a chain has one); the default budget has room for this one.
    const bloated = fileWith('null', `/Junk [${'0 '.repeat(300_000)}] `);
    expect(() => PdfDocument.open(bloated, { maxParsedValues: 200_000 })).toThrow(expect.objectContaining({ code: 'pdf-limit-exceeded' }));
    expect(exercise(bloated)).toBe('ok');
  });

  it('a huge or indirect-and-wrong /Length falls back to finding endstream', () => {
    for (const len of ['999999999999', '5 0 R', '-3', '2.5', '7']) {
      const doc = PdfDocument.open(fileWith(`<< /Length ${len} >>\nstream\nHello stream data\nendstream`));
      const s = doc.getObject(2) as PdfStream;
      expect(Buffer.from(s.raw).toString(), len).toBe('Hello stream data');
    }
    // A /Length that refers to the stream itself must not recurse forever.
    const self = PdfDocument.open(fileWith('<< /Length 2 0 R >>\nstream\nabc\nendstream'));
    expect(Buffer.from((self.getObject(2) as PdfStream).raw).toString()).toBe('abc');
    // No endstream at all: malformed, not a hang.
    expect(exercise(fileWith('<< /Length 999999999 >>\nstream\nabc'))).toBe('pdf-malformed');
  });

  it('a flate bomb stops with pdf-limit-exceeded quickly and with bounded memory', async () => {
    // 1 GiB of zeros, deflated twice: a few KB that would inflate to 1 GiB.
    const once = await new Promise<Buffer>((resolve, reject) => {
      const d = createDeflate({ level: 9 });
      const chunks: Buffer[] = [];
      d.on('data', (c: Buffer) => chunks.push(c));
      d.on('end', () => resolve(Buffer.concat(chunks)));
      d.on('error', reject);
      const zero = Buffer.alloc(1024 * 1024);
      let left = 1024;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!d.write(zero)) return void d.once('drain', pump);
        }
        d.end();
      };
      pump();
    });
    const bomb = deflateSync(once, { level: 9 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const stream = new PdfStream(new PdfDict([['Filter', [PdfName.of('FlateDecode'), PdfName.of('FlateDecode')]]]), bomb);
    try {
      decodeStream(stream);
      expect.unreachable();
    } catch (e) {
      expect((e as PdfError).code).toBe('pdf-limit-exceeded');
    }
    // As an xref stream inside a file: opening fails the same way.
    const x = Buffer.concat([Buffer.from(`%PDF-1.7\n1 0 obj\n<< /Type /XRef /Size 1 /W [1 2 1] /Filter [/FlateDecode /FlateDecode] /Length ${bomb.length} >>\nstream\n`), bomb, Buffer.from('\nendstream\nendobj\nstartxref\n9\n%%EOF\n')]);
    expect(exercise(x)).toBe('pdf-limit-exceeded');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * 1024 * 1024);
  });

  it('ASCII85 `z` behind FlateDecode stops at the output limit instead of aborting the process (review finding)', () => {
    // 56 MiB of `z` deflate to ~57 KB; each `z` is four zero bytes, so ASCII85 would produce 224 MiB
    // (it used to collect them in a JS array until V8 aborted the whole process).
    const bomb = deflateSync(Buffer.alloc(56 * 1024 * 1024, 'z'), { level: 9 });
    expect(bomb.length).toBeLessThan(256 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const head = '%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n';
    const x = Buffer.concat([
      Buffer.from(`${head}3 0 obj\n<< /Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R /Filter [/FlateDecode /ASCII85Decode] /Length ${bomb.length} >>\nstream\n`),
      bomb,
      Buffer.from(`\nendstream\nendobj\nstartxref\n${head.length}\n%%EOF\n`),
    ]);
    expect(exercise(x)).toBe('pdf-limit-exceeded');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(600 * 1024 * 1024);
  });

  it('ASCII85Decode and ASCIIHexDecode stop as soon as their output would pass the limit', () => {
    const a85 = new PdfStream(new PdfDict([['Filter', PdfName.of('ASCII85Decode')]]), Buffer.alloc(10_000, 'z'));
    expect(() => decodeStream(a85, 1000)).toThrowError(/ASCII85Decode output exceeds 1000 bytes/);
    expect(decodeStream(a85, 40_000).data.length).toBe(40_000);
    const ahx = new PdfStream(new PdfDict([['Filter', PdfName.of('AHx')]]), Buffer.alloc(10_000, '4'));
    expect(() => decodeStream(ahx, 1000)).toThrowError(/ASCIIHexDecode output exceeds 1000 bytes/);
    expect(decodeStream(ahx, 5000).data.length).toBe(5000);
    for (const st of [a85, ahx]) {
      try {
        decodeStream(st, 10);
        expect.unreachable();
      } catch (e) {
        expect((e as PdfError).code).toBe('pdf-limit-exceeded');
      }
    }
    // Fractional predictor parameters are malformed (they used to reach `new Uint8Array(2.5 * n)`).
    const rows = new PdfStream(new PdfDict([['Filter', PdfName.of('FlateDecode')], ['DecodeParms', new PdfDict([['Predictor', 12], ['Columns', 2.5]])]]), deflateSync(Buffer.alloc(64)));
    expect(() => decodeStream(rows)).toThrowError(/bad predictor parameters/);
  });

  it('an object stream listing itself in its header does not recurse (corpus loop file)', () => {
    const doc = PdfDocument.open(readFileSync(`${CORPUS}/loop/qpdf-object-stream-self-ref.pdf`));
    expect(doc.pageCount).toBe(1);
    expect((doc.getObject(1) as PdfStream).dict.getName('Type')).toBe('ObjStm');
  });

  it('an object stream whose xref entry puts it inside itself, or inside another object stream, is refused', () => {
    // Object 2 is declared compressed in object stream 2 (itself); object 4 in stream 2 as well.
    const head = '%PDF-1.5\n';
    const o1 = '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n';
    const xrefAt = head.length + o1.length;
    const row = (t: number, a: number, b: number) => [t, (a >> 8) & 255, a & 255, b];
    const data = Buffer.from([...row(0, 0, 255), ...row(1, head.length, 0), ...row(2, 2, 0), ...row(1, xrefAt, 0)]);
    const x = Buffer.concat([
      Buffer.from(`${head}${o1}3 0 obj\n<< /Type /XRef /Size 4 /W [1 2 1] /Root 1 0 R /Length ${data.length} >>\nstream\n`),
      data,
      Buffer.from(`\nendstream\nendobj\nstartxref\n${xrefAt}\n%%EOF\n`),
    ]);
    const doc = PdfDocument.open(x);
    expect(doc.entry(2)).toEqual({ type: 'compressed', stream: 2, index: 0 });
    expect(() => doc.getObject(2)).toThrowError(/object stream 2 is missing, nested or self-referencing/);
    expect(() => doc.pageCount).toThrowError(PdfError);
  });
});
