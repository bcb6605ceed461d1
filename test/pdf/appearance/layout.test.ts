import { describe, expect, it } from 'vitest';
import { layoutText, textWidth, wrapParagraph } from '../../../src/pdf/appearance/index.ts';

const measure = (t: string, size: number, bold: boolean): number =>
  textWidth(t, size, bold ? '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf' : undefined);

describe('wrapParagraph', () => {
  const w = (t: string): number => textWidth(t, 10);

  it('breaks at spaces and keeps every word', () => {
    const out = wrapParagraph('Chứng thực bản sao từ bản chính', 60, w);
    expect(out).not.toBeNull();
    expect(out!.length).toBeGreaterThan(1);
    expect(out!.join(' ')).toBe('Chứng thực bản sao từ bản chính');
    for (const line of out!) expect(w(line)).toBeLessThanOrEqual(60);
  });

  it('cuts a word longer than the line between characters', () => {
    const out = wrapParagraph('nguyenvanan.thanhhoa@example.gov.vn', 50, w);
    expect(out!.join('')).toBe('nguyenvanan.thanhhoa@example.gov.vn');
    for (const line of out!) expect(w(line)).toBeLessThanOrEqual(50);
  });

  it('returns null when a single character is wider than the line', () => {
    expect(wrapParagraph('W', 2, w)).toBeNull();
  });
});

describe('layoutText', () => {
  const box = { x: 10, y: 5, width: 150, height: 60 };

  it('keeps the preferred sizes when the text fits, centred vertically', () => {
    const placed = layoutText([{ text: 'Người ký', bold: true, size: 12 }, { text: 'Lý do' }], box, measure);
    expect(placed!.map((p) => p.size)).toEqual([12, 10]);
    const top = placed![0]!.y + 12 * 0.93;
    const bottom = placed![1]!.y - 10 * 0.24;
    expect(box.y + box.height - top).toBeCloseTo(bottom - box.y, 0);
  });

  it('shrinks uniformly before wrapping when a line is slightly too long', () => {
    const line = 'Thời gian: 29/11/2026 16:40:00 +07:00';
    expect(measure(line, 10, false)).toBeGreaterThan(box.width);
    const placed = layoutText([{ text: 'Người ký: Nguyễn Văn An', bold: true }, { text: line }], box, measure)!;
    expect(placed).toHaveLength(2);
    expect(placed[0]!.size).toBe(placed[1]!.size);
    expect(placed[1]!.size).toBeLessThan(10);
    for (const p of placed) expect(p.x + measure(p.text, p.size, p.bold)).toBeLessThanOrEqual(box.x + box.width);
  });

  it('returns null when nothing fits at the minimum size', () => {
    expect(layoutText([{ text: 'Người ký: Nguyễn Văn An' }], { x: 0, y: 0, width: 20, height: 3 }, measure)).toBeNull();
  });
});
