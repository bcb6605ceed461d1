import { describe, expect, it } from 'vitest';
import { formatVietnameseDateTime } from '../../../src/pdf/appearance/index.ts';

describe('formatVietnameseDateTime', () => {
  it('prints the instant at +07:00 by default, with the offset', () => {
    expect(formatVietnameseDateTime(new Date('2026-11-29T09:40:00Z'))).toBe('29/11/2026 16:40:00 +07:00');
  });

  it('rolls the date over when the offset crosses midnight', () => {
    expect(formatVietnameseDateTime(new Date('2026-12-31T17:05:09Z'))).toBe('01/01/2027 00:05:09 +07:00');
  });

  it('accepts other and negative offsets', () => {
    expect(formatVietnameseDateTime(new Date('2026-03-01T02:30:00Z'), '-05:30')).toBe('28/02/2026 21:00:00 -05:30');
    expect(formatVietnameseDateTime(new Date('2026-03-01T02:30:00Z'), '+00:00')).toBe('01/03/2026 02:30:00 +00:00');
  });

  it('rejects malformed offsets and invalid dates', () => {
    expect(() => formatVietnameseDateTime(new Date(), 'GMT+7')).toThrow(RangeError);
    expect(() => formatVietnameseDateTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
