import { describe, expect, it } from 'vitest';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { extendInPlace } from '../../src/pdf/index.ts';
import { savePdf } from '../../src/stamp/save.ts';
import { fixturePdf } from './helpers.ts';

/** Raw streams of every kind a scan brings: copied pages (content and images), a new flate stream, a font. */
async function build(): Promise<PDFDocument> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const src = await PDFDocument.load(await fixturePdf([{ size: [288, 360], label: 'Trang A' }]), { updateMetadata: false });
  for (const page of await doc.copyPages(src, [0])) doc.addPage(page);
  const page = doc.addPage([200, 100]);
  page.drawText('Ban sao', { font: await doc.embedFont(StandardFonts.Helvetica), size: 12, x: 10, y: 50 });
  doc.context.register(doc.context.flateStream(new Uint8Array(100_000).map((_, i) => i % 251)));
  return doc;
}

describe('savePdf', () => {
  it('writes the same bytes as pdf-lib without object streams', async () => {
    const plain = await (await build()).save({ useObjectStreams: false, updateFieldAppearances: false });
    const fast = await savePdf(await build());
    expect(Buffer.from(fast).equals(Buffer.from(plain))).toBe(true);
  });

  it('leaves room after the file, so the next revision is appended without copying it', async () => {
    const saved = await savePdf(await build());
    const copy = Buffer.from(saved);
    const next = extendInPlace(saved, 1000);
    expect(next.buffer).toBe(saved.buffer);
    expect(Buffer.from(next.subarray(0, saved.length)).equals(copy)).toBe(true);
    // A second stage from the same (now older) revision must not write over the first one's bytes.
    const other = extendInPlace(saved, 10);
    expect(other.buffer).not.toBe(saved.buffer);
    expect(Buffer.from(other.subarray(0, saved.length)).equals(copy)).toBe(true);
  });
});
