/**
 * Test-only: wraps appearance objects in a complete one-page PDF with a hand-written classic xref
 * table (ISO 32000-1 §7.5.4), independent of the project's incremental writer. The form is either
 * painted by the page content (`/X0 Do`) or used as the /AP /N of an unsigned signature widget.
 */
import type { SignatureAppearance } from '../../../src/pdf/appearance/index.ts';

export interface AssembleOptions {
  pageWidth?: number;
  pageHeight?: number;
  /** Lower-left corner of the box on the page. */
  at?: [number, number];
  /** Box size, needed for the widget's /Rect. */
  size: [number, number];
  mode?: 'content' | 'widget';
}

const FIRST_FREE = 6; // 1 catalog, 2 pages, 3 page, 4 page content, 5 widget

export function numberAllocator(): () => number {
  let next = FIRST_FREE;
  return () => next++;
}

export function assemblePdf(appearance: SignatureAppearance, options: AssembleOptions): Buffer {
  const pw = options.pageWidth ?? 300;
  const ph = options.pageHeight ?? 200;
  const [x, y] = options.at ?? [20, 20];
  const [w, h] = options.size;
  const widget = options.mode === 'widget';
  const content = widget ? '' : `q 1 0 0 1 ${x} ${y} cm /X0 Do Q\n`;

  const bodies = new Map<number, Buffer>();
  const text = (s: string): Buffer => Buffer.from(s, 'latin1');
  bodies.set(
    1,
    text(`<</Type /Catalog /Pages 2 0 R${widget ? ' /AcroForm <</Fields [5 0 R] /SigFlags 1>>' : ''}>>`),
  );
  bodies.set(2, text('<</Type /Pages /Kids [3 0 R] /Count 1>>'));
  bodies.set(
    3,
    text(
      `<</Type /Page /Parent 2 0 R /MediaBox [0 0 ${pw} ${ph}] /Contents 4 0 R` +
        ` /Resources <</XObject <</X0 ${appearance.formXObject} 0 R>>>>${widget ? ' /Annots [5 0 R]' : ''}>>`,
    ),
  );
  bodies.set(4, text(`<</Length ${content.length}>>\nstream\n${content}\nendstream`));
  bodies.set(
    5,
    text(
      `<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /F 4 /P 3 0 R` +
        ` /Rect [${x} ${y} ${x + w} ${y + h}] /AP <</N ${appearance.formXObject} 0 R>>>>`,
    ),
  );
  for (const o of appearance.objects) {
    if (bodies.has(o.num)) throw new Error(`object ${o.num} emitted twice`);
    bodies.set(o.num, Buffer.from(o.body));
  }

  const size = Math.max(...bodies.keys()) + 1;
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]!.length;
  const offsets = new Map<number, number>();
  for (const [num, body] of [...bodies.entries()].sort(([a], [b]) => a - b)) {
    offsets.set(num, offset);
    const chunk = Buffer.concat([text(`${num} 0 obj\n`), body, text('\nendobj\n')]);
    parts.push(chunk);
    offset += chunk.length;
  }
  // Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, two-byte EOL.
  let xref = `xref\n0 ${size}\n0000000000 65535 f\r\n`;
  for (let n = 1; n < size; n++) {
    const off = offsets.get(n);
    xref += off === undefined ? '0000000000 65535 f\r\n' : `${String(off).padStart(10, '0')} 00000 n\r\n`;
  }
  xref += `trailer\n<</Size ${size} /Root 1 0 R>>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(text(xref));
  return Buffer.concat(parts);
}
