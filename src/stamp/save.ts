/**
 * Serialising a pdf-lib document that carries a scan. pdf-lib's PDFStream writes its contents into
 * the output one byte at a time, which for a 6 MB scan costs more than everything else in the save;
 * the raw streams (the embedded images, above all) are swapped for one that copies in a single call.
 * The bytes written are the same.
 */
import { PDFRawStream, PDFStream, PDFWriter, arrayAsString, copyStringIntoBuffer, type PDFContext, type PDFDict, type PDFDocument } from 'pdf-lib';
import { allowGrowth, growthRoom } from '../pdf/index.ts';

class BulkStream extends PDFStream {
  constructor(
    dict: PDFDict,
    private readonly contents: Uint8Array,
  ) {
    super(dict);
  }

  override getContents(): Uint8Array {
    return this.contents;
  }

  override getContentsSize(): number {
    return this.contents.length;
  }

  override getContentsString(): string {
    return arrayAsString(this.contents);
  }

  override copyBytesInto(buffer: Uint8Array, offset: number): number {
    this.updateDict();
    let at = offset + this.dict.copyBytesInto(buffer, offset);
    at += copyStringIntoBuffer('\nstream\n', buffer, at);
    buffer.set(this.contents, at);
    at += this.contents.length;
    at += copyStringIntoBuffer('\nendstream', buffer, at);
    return at - offset;
  }
}

/**
 * pdf-lib's writer (no object streams), asked for a buffer with room after the file: the signatures
 * and validation data then append in place (src/pdf/growable.ts) instead of copying the scan again.
 */
class RoomyWriter extends PDFWriter {
  /** The file's own length (the buffer is longer). */
  fileSize = 0;

  constructor(context: PDFContext) {
    super(context, 50);
  }

  protected override async computeBufferSize(): ReturnType<PDFWriter['computeBufferSize']> {
    const info = await super.computeBufferSize();
    this.fileSize = info.size;
    return { ...info, size: info.size + growthRoom(info.size) };
  }
}

/**
 * Saves `doc` without object streams (the layout every later incremental update appends to), as
 * `doc.save({ useObjectStreams: false })` would; `doc` is spent afterwards.
 */
export async function savePdf(doc: PDFDocument): Promise<Uint8Array> {
  if (doc.getPageCount() === 0) doc.addPage(); // as save() does
  // Images and fonts become raw streams when flushed; swap them after that.
  await doc.flush();
  for (const [ref, obj] of doc.context.enumerateIndirectObjects()) {
    if (obj instanceof PDFRawStream) doc.context.assign(ref, new BulkStream(obj.dict, obj.contents));
  }
  const writer = new RoomyWriter(doc.context);
  const buffer = await writer.serializeToBuffer();
  return allowGrowth(buffer.subarray(0, writer.fileSize));
}
