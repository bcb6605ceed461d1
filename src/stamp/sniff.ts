/**
 * The scan's format is decided by its leading bytes only: the browser's MIME type and the file name
 * are whatever the uploader's machine said, so they are not trusted (a renamed file must not reach a
 * decoder that was not meant for it).
 */
export type ScanFormat = 'pdf' | 'jpeg' | 'png' | 'tiff';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffFormat(bytes: Uint8Array): ScanFormat | undefined {
  const starts = (sig: readonly number[]) => sig.every((b, i) => bytes[i] === b);
  // JPEG: SOI marker followed by the next marker's 0xFF (ITU-T T.81 §B.2.1).
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts(PNG_SIGNATURE)) return 'png'; // PNG spec §5.2
  // Classic TIFF 6.0 §2 header: byte order "II"/"MM" then 42. BigTIFF (43) is not supported.
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  // ISO 32000-1 §7.5.2: the header is "%PDF-"; readers accept it within the first 1024 bytes
  // (Annex H, implementation note), and scanners' PDFs sometimes carry a few bytes of junk first.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return 'pdf';
  return undefined;
}
