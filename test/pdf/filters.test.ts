import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_DIR, generateFixtures } from '../../scripts/gen-fixtures.ts';
import { BufferSource, FileSource, PdfDict, PdfName, PdfStream, decodeStream, decodeStreamFully } from '../../src/pdf/index.ts';

const s = (filter: string[], data: Uint8Array, parms?: PdfDict) => {
  const d = new PdfDict([['Filter', filter.map((f) => PdfName.of(f))]]);
  if (parms) d.set('DecodeParms', [parms]);
  return new PdfStream(d, data);
};

describe('stream filters (§7.4)', () => {
  it('ASCIIHexDecode and ASCII85Decode', () => {
    expect(Buffer.from(decodeStreamFully(s(['ASCIIHexDecode'], Buffer.from('48 65 6c6C 6f7>')))).toString()).toBe('Hellop');
    expect(Buffer.from(decodeStreamFully(s(['ASCII85Decode'], Buffer.from('9jqo^BlbD-BleB1DJ+*+F(f,q~>')))).toString()).toBe('Man is distinguished');
    expect(Buffer.from(decodeStreamFully(s(['A85'], Buffer.from('z~>')))).equals(Buffer.alloc(4))).toBe(true);
  });

  it('chains filters and undoes the PNG Up predictor', () => {
    // Two rows of 3 columns, PNG "Up" (type 2) rows: second row stores differences to the first.
    const raw = Buffer.from([2, 1, 2, 3, 2, 1, 1, 1]);
    const enc = Buffer.from(deflateSync(raw).toString('hex'));
    const parms = new PdfDict([['Predictor', 12], ['Columns', 3]]);
    const st = new PdfStream(new PdfDict([['Filter', [PdfName.of('AHx'), PdfName.of('FlateDecode')]], ['DecodeParms', [null, parms]]]), enc);
    expect([...decodeStreamFully(st)]).toEqual([1, 2, 3, 2, 3, 4]);
  });

  it('undoes the PNG Paeth and Sub predictors and the TIFF predictor', () => {
    const paeth = Buffer.from([4, 5, 1, 4, 0, 0]);
    expect([...decodeStreamFully(s(['FlateDecode'], deflateSync(paeth), new PdfDict([['Predictor', 15], ['Columns', 2]])))]).toEqual([5, 6, 5, 6]);
    const sub = Buffer.from([1, 5, 1]);
    expect([...decodeStreamFully(s(['FlateDecode'], deflateSync(sub), new PdfDict([['Predictor', 11], ['Columns', 2]])))]).toEqual([5, 6]);
    const tiff = Buffer.from([5, 1, 1]);
    expect([...decodeStreamFully(s(['FlateDecode'], deflateSync(tiff), new PdfDict([['Predictor', 2], ['Columns', 3]])))]).toEqual([5, 6, 7]);
  });

  it('leaves unknown filters encoded and says so', () => {
    const r = decodeStream(s(['FlateDecode', 'DCTDecode'], deflateSync(Buffer.from('jpegdata'))));
    expect(r.complete).toBe(false);
    expect(r.remainingFilters).toEqual(['DCTDecode']);
    expect(Buffer.from(r.data).toString()).toBe('jpegdata');
    expect(() => decodeStreamFully(s(['JBIG2Decode'], Buffer.from('x')))).toThrowError(/unsupported stream filter/);
  });
});

describe('byte sources', () => {
  beforeAll(() => void generateFixtures());

  it('FileSource returns the same bytes as the file at any offset, clipped at the end', () => {
    const file = path.join(FIXTURE_DIR, 'random.bin');
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    writeFileSync(file, data);
    const fsrc = new FileSource(file, 4096);
    const bsrc = new BufferSource(data);
    expect(fsrc.length).toBe(data.length);
    for (const [off, len] of [[0, 10], [4090, 20], [5000, 100_000], [299_990, 50], [400_000, 5], [123, 0], [4096, 4096]] as const) {
      const a = Buffer.from(fsrc.read(off, len));
      expect(a.equals(Buffer.from(bsrc.read(off, len))), `${off}+${len}`).toBe(true);
      expect(a.equals(data.subarray(off, off + len))).toBe(true);
    }
    fsrc.close();
    expect(() => fsrc.read(0, 1)).toThrowError();
    expect(readFileSync(file).length).toBe(300_000);
  });
});
