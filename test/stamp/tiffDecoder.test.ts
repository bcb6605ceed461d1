/**
 * TIFF pages decoded in worker threads (src/stamp/tiffDecoder.ts): the PDF stores what decoding in this
 * thread stores, the event loop turns meanwhile, refusals made in a worker keep their codes, and a
 * worker that runs out of memory or hangs fails its own job only.
 */
import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, InputError } from '../../src/errors.ts';
import { normalizeScan, StampError } from '../../src/stamp/index.ts';
import { decodeTiffPage, readTiffPages } from '../../src/stamp/tiff.ts';
import { TiffDecoder } from '../../src/stamp/tiffDecoder.ts';
import { THREE_PAGES, Workdir, fixturePdf, joinTiffs, oneStripJpegTiff, oneStripTiff, rasterize, ticksDuring } from './helpers.ts';

let wd: Workdir;
let source: Uint8Array;
let lzw: Uint8Array; // 3 RGB pages, 100 dpi
let g4: Uint8Array; // 2 bilevel pages, 150 dpi
beforeAll(async () => {
  wd = new Workdir();
  source = await fixturePdf(THREE_PAGES);
  lzw = joinTiffs([1, 2, 3].map((p) => rasterize(wd, source, p, 'tiff', 100, ['-tiffcompression', 'lzw'])));
  g4 = joinTiffs([1, 2].map((p) => rasterize(wd, source, p, 'tiff', 150, ['-mono', '-tiffcompression', 'ccittfax4'])));
});
afterAll(() => wd.remove());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Each page's image XObject as the PDF stores it; `sha256` is of the Flate stream itself. */
async function storedImages(pdf: Uint8Array) {
  const doc = await PDFDocument.load(pdf);
  return doc.getPages().map((page) => {
    const xobjects = page.node.Resources()!.lookup(PDFName.of('XObject'), PDFDict);
    const image = xobjects
      .values()
      .map((v) => doc.context.lookup(v))
      .find((o): o is PDFRawStream => o instanceof PDFRawStream && o.dict.get(PDFName.of('Subtype')) === PDFName.of('Image'));
    if (!image) throw new Error('a page without an image');
    const num = (key: string) => image.dict.lookup(PDFName.of(key), PDFNumber).asNumber();
    return {
      stored: {
        width: num('Width'),
        height: num('Height'),
        colorSpace: image.dict.lookup(PDFName.of('ColorSpace'), PDFName).asString(),
        bits: num('BitsPerComponent'),
        filter: image.dict.lookup(PDFName.of('Filter'), PDFName).asString(),
        sha256: sha256(image.contents),
      },
      flate: image.contents,
    };
  });
}

/** What intake stored while it decoded on its own thread: decodeTiffPage, then deflateSync. */
function decodedHere(tiff: Uint8Array) {
  const buffer = new Uint8Array(tiff).buffer;
  const { ifds, headers } = readTiffPages(buffer, 'here');
  return ifds.map((ifd, i) => {
    const page = decodeTiffPage(buffer, ifd, headers[i]!, 'here');
    return { width: page.width, height: page.height, colorSpace: `/${page.colorSpace}`, bits: page.bitsPerComponent, filter: '/FlateDecode', sha256: sha256(deflateSync(page.samples)) };
  });
}

/** Binary PBM (P4), as pdftoppm -mono writes it: rows padded to a byte, 1 is black. */
function parsePbm(bytes: Uint8Array): { width: number; height: number; bits: Uint8Array } {
  const m = /^P4\s+(\d+)\s+(\d+)\s/.exec(Buffer.from(bytes.subarray(0, 32)).toString('latin1'));
  if (!m) throw new Error('not a binary PBM');
  return { width: Number(m[1]), height: Number(m[2]), bits: bytes.subarray(m[0].length) };
}

describe('the same pages as decoding in this thread', () => {
  it('multi-page LZW (RGB) and CCITT G4 (bilevel) files: the same image streams, byte for byte', async () => {
    for (const [tiff, pages, colorSpace, bits] of [
      [lzw, 3, '/DeviceRGB', 8],
      [g4, 2, '/DeviceGray', 1],
    ] as const) {
      const stored = (await storedImages((await normalizeScan([{ bytes: tiff }])).pdf)).map((i) => i.stored);
      expect(stored).toEqual(decodedHere(tiff));
      expect(stored.map((s) => [s.colorSpace, s.bits])).toEqual(Array.from({ length: pages }, () => [colorSpace, bits]));
    }
  });

  it('a G4 page is stored at 1 bit, bit for bit what poppler renders in black and white', async () => {
    const [first] = await storedImages((await normalizeScan([{ bytes: g4 }])).pdf);
    const pbm = parsePbm(rasterize(wd, source, 1, 'pbm', 150));
    expect([first!.stored.width, first!.stored.height]).toEqual([pbm.width, pbm.height]);
    const samples = inflateSync(first!.flate);
    const rowBytes = Math.ceil(pbm.width / 8);
    expect(samples.length).toBe(rowBytes * pbm.height);
    const lastMask = (0xff << ((8 - (pbm.width % 8)) % 8)) & 0xff; // the row padding is not compared
    let differing = 0;
    let black = 0;
    for (let y = 0; y < pbm.height; y++) {
      for (let x = 0; x < rowBytes; x++) {
        const mask = x === rowBytes - 1 ? lastMask : 0xff;
        const i = y * rowBytes + x;
        // DeviceGray at 1 bit: 1 is white (ISO 32000-1 §8.6.4.2); in PBM 1 is black.
        if ((samples[i]! & mask) !== (~pbm.bits[i]! & mask)) differing++;
        if ((~samples[i]! & mask) !== 0) black++;
      }
    }
    expect(differing).toBe(0);
    expect(black).toBeGreaterThan(100); // the page has its text and frame, not just paper
  });
});

it('the event loop keeps turning while a large TIFF is decoded', async () => {
  const page = rasterize(wd, source, 1, 'tiff', 1000, ['-mono', '-tiffcompression', 'ccittfax4']); // 4000×5000 pixels
  const tiff = joinTiffs([page, page]);
  const { ticks, result } = await ticksDuring(normalizeScan([{ bytes: tiff }]));
  expect(result.pages).toBe(2);
  // Decoded on this thread, the file held the loop from start to end: a tick or two in all.
  expect(ticks).toBeGreaterThan(50);
});

describe('refusals made in a worker', () => {
  async function expectRefusal(bytes: Uint8Array, code: string, status: number, text: string): Promise<void> {
    const err = await normalizeScan([{ bytes, name: 'scan.tif' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StampError);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code, status });
    expect((err as Error).message).toContain(text);
  }

  it("a page's: JPEG strips larger than the TIFF's tags say (scan-corrupt, naming the page)", async () => {
    const big = rasterize(wd, source, 1, 'jpeg', 400, ['-gray']);
    const tiff = joinTiffs([rasterize(wd, source, 2, 'tiff', 50, ['-tiffcompression', 'lzw']), oneStripJpegTiff(big, 100, 100)]);
    await expectRefusal(tiff, 'scan-corrupt', 422, 'file 1 (scan.tif) page 2: TIFF JPEG data is 1600×2000 pixels where the TIFF says 100×100');
  });

  it("the directories': a chain that loops, a tag claiming more values than the file holds (before utif2 reads them)", async () => {
    // One directory whose "next" offset is itself: utif2 alone would read it forever.
    const loop = tinyTiff(256, 3, 1, 10);
    loop.writeUInt32LE(8, 22);
    await expectRefusal(loop, 'scan-corrupt', 422, 'TIFF directories form a loop');
    // 2^31 SHORTs in a 26-byte file: utif2 alone would grow one array until the heap gave out.
    await expectRefusal(tinyTiff(256, 3, 0x7fffffff, 0), 'scan-corrupt', 422, 'TIFF tag 256 has values past the end of the file');
  });

  it('allocations utif2 would size from the file are bounded first: a Deflate strip that inflates past its page, an oversized tile, odd sample sizes', async () => {
    // 1×1 pixel whose strip inflates to 64 MB (64 KB of file): utif2's pako inflated it whole, in the service's process.
    await expectRefusal(oneStripTiff(deflateSync(Buffer.alloc(64 * 1024 * 1024)), 1, 1, 8), 'scan-corrupt', 422, 'TIFF image data cannot be decoded');
    // A Deflate page that fits decodes as before.
    const gray = Buffer.alloc(64 * 48, 200);
    expect((await normalizeScan([{ bytes: oneStripTiff(deflateSync(gray), 64, 48, 8) }])).pages).toBe(1);
    // 1×1 pixel with one 40000×40000 tile: a 1.6 GB buffer allocated and cleared.
    const tiled = oneStripTiff(Buffer.alloc(16), 1, 1, 1, [[322, 4, 40_000], [323, 4, 40_000], [324, 4, 0], [325, 4, 16]]);
    await expectRefusal(tiled, 'scan-corrupt', 422, 'TIFF tiles of 40000×40000 pixels on a 1×1 page');
    await expectRefusal(oneStripTiff(Buffer.alloc(16), 1, 1, 1, [[258, 3, 12]]), 'scan-corrupt', 422, 'TIFF with 12 bits × 1 samples per pixel');
  });

  it('a scan whose decoding jobs together run past maxDecodeMs is refused before its next job (each job has only its own limit)', async () => {
    // Reading the file alone takes more than 1 ms in a worker: no page job is sent after it.
    const err = await normalizeScan([{ bytes: lzw, name: 'long.tif' }], { maxDecodeMs: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'scan-decoder-failed', status: 422 });
    expect((err as Error).message).toMatch(/^file 1 \(long\.tif\) page \d: the scan took more than 1 ms to decode/);
  });

  it('the limits on the headers still hold: pixels and pages', async () => {
    await expect(normalizeScan([{ bytes: lzw }], { maxPixelsPerPage: 400 * 500 - 1 })).rejects.toMatchObject({ code: 'scan-too-many-pixels', status: 413 });
    await expect(normalizeScan([{ bytes: g4 }, { bytes: lzw }], { maxPages: 4 })).rejects.toMatchObject({ code: 'scan-too-many-pages', status: 413 });
  });
});

describe('a worker that runs out of memory or hangs', () => {
  it('out of memory: its job fails with scan-decoder-failed, and the next job gets a fresh worker', async () => {
    const decoder = new TiffDecoder({ size: 1, maxHeapMb: 32 });
    try {
      // Within the directory budget, but utif2's arrays for it need more than 32 MB of heap.
      const err = await decoder.read(manyStrips(390, 10_000), 'big.tif').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).not.toBeInstanceOf(StampError);
      expect(err).toMatchObject({ code: 'scan-decoder-failed', status: 422, message: 'big.tif: the TIFF decoder ran out of memory; the scan was not taken' });
      const file = await decoder.read(lzw, 'next.tif');
      const page = await decoder.decodePage(file, 0, 'next.tif page 1');
      expect(sha256(page.flate)).toBe(decodedHere(lzw)[0]!.sha256);
    } finally {
      await decoder.close();
    }
  });

  it('a page past the time limit (utif2 loops without end on some corrupt LZW data): its worker is stopped, the next page decodes', async () => {
    const tiff = Buffer.from(lzw);
    const { ifds } = readTiffPages(new Uint8Array(tiff).buffer, 'here');
    for (const at of ifds[1]!.t273 as number[]) tiff.fill(0xff, at, at + 50);
    const decoder = new TiffDecoder({ size: 1, hardLimitMs: 3000 });
    try {
      const file = await decoder.read(tiff, 'bad.tif');
      await expect(decoder.decodePage(file, 1, 'bad.tif page 2')).rejects.toMatchObject({
        code: 'scan-decoder-failed',
        status: 422,
        message: 'bad.tif page 2: the TIFF decoder did not finish within 3000 ms; the scan was not taken',
      });
      expect(await decoder.decodePage(file, 0, 'bad.tif page 1')).toMatchObject({ width: 400, height: 500, colorSpace: 'DeviceRGB' });
    } finally {
      await decoder.close();
    }
  });
});

describe('a bounded queue', () => {
  it('past maxWaiting jobs waiting, the next is refused at once with 503 server-busy; those waiting are answered', async () => {
    const tiff = Buffer.from(lzw);
    const { ifds } = readTiffPages(new Uint8Array(tiff).buffer, 'here');
    for (const at of ifds[1]!.t273 as number[]) tiff.fill(0xff, at, at + 50);
    const decoder = new TiffDecoder({ size: 1, hardLimitMs: 2000, maxWaiting: 1 });
    try {
      const file = await decoder.read(tiff, 'slow.tif');
      const running = decoder.decodePage(file, 1, 'slow.tif page 2'); // loops until the time limit
      const waiting = decoder.decodePage(file, 0, 'slow.tif page 1');
      await expect(decoder.decodePage(file, 0, 'other.tif page 1')).rejects.toMatchObject({ code: 'server-busy', status: 503, retryable: true, details: { retryAfterSeconds: 30 } });
      await expect(running).rejects.toMatchObject({ code: 'scan-decoder-failed', status: 422 });
      expect(await waiting).toMatchObject({ width: 400, height: 500 });
    } finally {
      await decoder.close();
    }
  });
});

/** A little-endian TIFF of one directory holding one entry. */
function tinyTiff(tag: number, type: number, count: number, value: number): Buffer {
  const b = Buffer.alloc(8 + 2 + 12 + 4);
  b.write('II*\0', 0, 'latin1');
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(1, 8);
  b.writeUInt16LE(tag, 10);
  b.writeUInt16LE(type, 12);
  b.writeUInt32LE(count, 14);
  b.writeUInt32LE(value, 18);
  return b;
}

/** `pages` directories, each with `strips` strip offsets and byte counts (all sharing one table). */
function manyStrips(pages: number, strips: number): Uint8Array {
  const table = 8;
  const ifdSize = 2 + 5 * 12 + 4;
  const first = table + strips * 4;
  const b = Buffer.alloc(first + pages * ifdSize);
  b.write('II*\0', 0, 'latin1');
  b.writeUInt32LE(first, 4);
  for (let k = 0; k < strips; k++) b.writeUInt32LE(8, table + 4 * k);
  for (let p = 0; p < pages; p++) {
    const at = first + p * ifdSize;
    b.writeUInt16LE(5, at);
    const entries: Array<[number, number, number]> = [
      [256, 1, 100],
      [257, 1, strips],
      [273, strips, table],
      [278, 1, 1],
      [279, strips, table],
    ];
    entries.forEach(([tag, count, value], i) => {
      const e = at + 2 + i * 12;
      b.writeUInt16LE(tag, e);
      b.writeUInt16LE(4, e + 2);
      b.writeUInt32LE(count, e + 4);
      b.writeUInt32LE(value, e + 8);
    });
    b.writeUInt32LE(p + 1 < pages ? at + ifdSize : 0, at + 2 + entries.length * 12);
  }
  return b;
}
