/**
 * PAdES validation (ETSI EN 319 102-1 indications, reports in the spirit of ETSI TS 119 102-2):
 * validatePdf → ValidationReport; summarizeReport for one line per file; the policy as data.
 */
export { validatePdf, type ValidateInput, type ValidateOptions } from './validatePdf.ts';
export { summarizeReport } from './summary.ts';
export { STRICT_POLICY, parsePolicy, policyToJson, type Level, type ValidationPolicy } from './policy.ts';
export type { RevocationQuery, RevocationSource, RevocationStatus, TimestampVerification, TimestampVerifier } from './ports.ts';
export type {
  ChangeFlag,
  ChangeKind,
  ChangeReport,
  CheckName,
  CheckResult,
  CheckStatus,
  DocumentError,
  Indication,
  RevisionReport,
  SignatureReport,
  SignatureType,
  SubIndication,
  ValidationReport,
} from './report.ts';
export { analyseRevision, type ChangeContext, type FieldLock } from './changeAnalysis.ts';
export { readTstInfo, type TstInfoSummary } from './tstInfo.ts';
