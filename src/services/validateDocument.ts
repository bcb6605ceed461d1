/**
 * Use case: validate every signature and document timestamp of a PDF (ours or anyone's) against
 * the configured trust anchors and policy; the report is plain data for the API, CLI and pages.
 */
import type { X509Certificate } from 'node:crypto';
import type { RevocationChecker } from '../pki/index.ts';
import { STRICT_POLICY, policyToJson, validatePdf, type ValidateInput, type ValidationPolicy, type ValidationReport } from '../pades/validation/index.ts';
import type { ValidationPool } from './validationPool.ts';
import { timestampVerifier, validationRevocationSource } from './trustServices.ts';

export interface ValidationDeps {
  trustAnchors: readonly X509Certificate[];
  policy: ValidationPolicy;
  /** Online OCSP/CRL, used only when the policy's `revocation.fetchOnline` is true. */
  checker?: RevocationChecker;
  /** Longest the change analysis may work (ms) before what is left is reported unfinished (VALIDATION_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Worker threads that do the work off the event loop (the service); absent: in this thread (CLI, workers themselves). */
  pool?: ValidationPool;
}

/** `urgent`: with a worker pool, ahead of the jobs waiting (the service's own copies, a QR lookup waits for). */
export async function validateDocument(
  deps: ValidationDeps,
  input: ValidateInput,
  opts: { policy?: ValidationPolicy; now?: Date; urgent?: boolean } = {},
): Promise<ValidationReport> {
  if (deps.pool) {
    return deps.pool.validate(input, { ...(opts.policy ? { policyJson: policyToJson(opts.policy) } : {}), ...(opts.now ? { now: opts.now } : {}), urgent: opts.urgent === true });
  }
  const policy = opts.policy ?? deps.policy ?? STRICT_POLICY;
  return validatePdf(input, {
    policy,
    trustAnchors: deps.trustAnchors,
    timestampVerifier,
    revocationSource: validationRevocationSource(policy.revocation.fetchOnline ? deps.checker : undefined, policy),
    now: opts.now,
    ...(deps.timeoutMs !== undefined ? { analysisTimeLimitMs: deps.timeoutMs } : {}),
  });
}

/** A document passes only when every signature passes and nothing disallowed changed. */
export function passed(report: ValidationReport): boolean {
  return report.documentIndication === 'TOTAL-PASSED';
}
