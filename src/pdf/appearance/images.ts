/**
 * Image XObjects (ISO 32000-1 §8.9.5) for seals and logos in a signature appearance. JPEG goes in
 * unchanged under /DCTDecode (no recompression, so no quality loss and the bytes stay verifiable);
 * PNG is decoded to 8-bit RGB under /FlateDecode with its alpha channel as a /SMask (§11.6.5.3).
 */
import { JpegEmbedder, PDFContext, PDFRef, PngEmbedder } from 'pdf-lib';
import { AppearanceInputError } from './errors.ts';

export interface ImageSpec {
  bytes: Uint8Array;
  kind: 'png' | 'jpeg';
}

export interface EmbeddedImage {
  ref: PDFRef;
  width: number;
  height: number;
}

export async function embedImage(context: PDFContext, image: ImageSpec): Promise<EmbeddedImage> {
  // pdf-lib reads through `new DataView(bytes.buffer)`, ignoring byteOffset: a Node Buffer from the
  // pool or any subarray would be read from the wrong place. A copy starts at offset 0.
  const bytes = new Uint8Array(image.bytes);
  let embedder: JpegEmbedder | PngEmbedder;
  try {
    embedder = image.kind === 'jpeg' ? await JpegEmbedder.for(bytes) : await PngEmbedder.for(bytes);
  } catch (cause) {
    throw new AppearanceInputError('appearance-invalid-image', `the ${image.kind.toUpperCase()} image cannot be read`, {
      cause,
    });
  }
  if (!(embedder.width > 0 && embedder.height > 0)) {
    throw new AppearanceInputError('appearance-invalid-image', `the ${image.kind.toUpperCase()} image has no pixels`);
  }
  const ref = await embedder.embedIntoContext(context);
  return { ref, width: embedder.width, height: embedder.height };
}

/** The largest rectangle with the image's aspect ratio inside `box`, centred in it. */
export function fitImage(
  image: { width: number; height: number },
  box: { x: number; y: number; width: number; height: number },
): { x: number; y: number; width: number; height: number } {
  const scale = Math.min(box.width / image.width, box.height / image.height);
  const width = image.width * scale;
  const height = image.height * scale;
  return { x: box.x + (box.width - width) / 2, y: box.y + (box.height - height) / 2, width, height };
}
