/** One-line summaries of reports, for logs and the CLI. */
import type { ValidationReport } from './report.ts';

/** e.g. `file.pdf: TOTAL-PASSED (2 signatures: sig-1 TOTAL-PASSED, sig-2 INDETERMINATE/TRY_LATER; changes: none)`. */
export function summarizeReport(r: ValidationReport): string {
  if (r.document.error) return `${r.source}: ERROR ${r.document.error.code} (${r.document.error.message})`;
  if (r.signatures.length === 0) return `${r.source}: NO_SIGNATURE`;
  const sigs = r.signatures
    .map((s) => `${s.id}${s.type === 'document-timestamp' ? '[ts]' : ''} ${s.indication}${s.subIndication ? `/${s.subIndication}` : ''}`)
    .join(', ');
  const bad = r.revisions.filter((x) => x.verdict === 'not-allowed').map((x) => x.index);
  const changes = bad.length === 0 ? 'none disallowed' : `disallowed in revision ${bad.join(', ')}`;
  return `${r.source}: ${r.documentIndication} (${r.signatures.length} signature(s): ${sigs}; changes: ${changes})`;
}
