/**
 * Test-only: a PDF of the given object bodies (numbered from 1; object 1 is the catalog) with a
 * hand-written classic xref table (ISO 32000-1 §7.5.4), for inputs the project's writer would never
 * produce.
 */
export function classicPdf(objects: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  let length = parts[0]!.length;
  const offsets = objects.map((body, i) => {
    const b = Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1');
    parts.push(b);
    length += b.length;
    return length - b.length;
  });
  const entry = (offset: number) => `${String(offset).padStart(10, '0')} 00000 n\r\n`;
  parts.push(Buffer.from(`xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n${offsets.map(entry).join('')}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

/**
 * A one-page PDF plus `objects` objects of `arrays` empty arrays each (`[[][]…]`: about 50 bytes of heap
 * per 2 bytes of file once parsed), named by the catalog's /AcroForm /Fields (read when signing, not
 * copied with the pages) or by the page's resources (copied with it).
 */
export function valueBomb(objects: number, arrays: number, from: 'acroform' | 'page'): Buffer {
  const refs = Array.from({ length: objects }, (_, i) => `${4 + i} 0 R`).join(' ');
  const catalog = from === 'acroform' ? `<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [${refs}] >> >>` : '<< /Type /Catalog /Pages 2 0 R >>';
  const resources = from === 'page' ? ` /Resources << /Properties << ${Array.from({ length: objects }, (_, i) => `/B${i} ${4 + i} 0 R`).join(' ')} >> >>` : '';
  const big = `[${'[]'.repeat(arrays)}]`;
  return classicPdf([catalog, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]${resources} >>`, ...Array<string>(objects).fill(big)]);
}
