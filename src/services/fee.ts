/**
 * The certification fee (Circular 226/2016/TT-BTC, domain.md): per copy, 2,000 VND a page for
 * pages 1–2 and 1,000 VND a page from page 3, at most 200,000 VND per copy; pages counted on the
 * original. The schedule is data so a change of circular is a configuration change.
 */
export interface FeeSchedule {
  firstPages: number;
  firstPagePrice: number;
  laterPagePrice: number;
  maxPerCopy: number;
}

export const CIRCULAR_226_2016: FeeSchedule = { firstPages: 2, firstPagePrice: 2000, laterPagePrice: 1000, maxPerCopy: 200_000 };

export function certificationFee(originalPages: number, copies: number, s: FeeSchedule = CIRCULAR_226_2016): number {
  const first = Math.min(originalPages, s.firstPages) * s.firstPagePrice;
  const later = Math.max(0, originalPages - s.firstPages) * s.laterPagePrice;
  return Math.min(first + later, s.maxPerCopy) * copies;
}
