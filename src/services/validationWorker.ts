/**
 * A validation worker thread (see validationPool.ts): builds its validation dependencies once from
 * the settings it is started with, then answers one job at a time with the report, or with the error.
 */
import { X509Certificate } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import { parsePolicy } from '../pades/validation/index.ts';
import { CrlFetcher, OcspClient, RevocationChecker } from '../pki/index.ts';
import { validateDocument, type ValidationDeps } from './validateDocument.ts';
import type { ValidationWorkerSettings } from './validationPool.ts';

const settings = workerData as ValidationWorkerSettings;
const deps: ValidationDeps = {
  trustAnchors: settings.trustAnchors.map((der) => new X509Certificate(der)),
  policy: parsePolicy(settings.policyJson),
  checker: new RevocationChecker({
    ocsp: new OcspClient({ url: settings.revocation.ocspUrl, timeoutMs: settings.revocation.timeoutMs }),
    crl: new CrlFetcher({ timeoutMs: settings.revocation.timeoutMs }),
  }),
  timeoutMs: settings.timeoutMs,
};

parentPort!.postMessage({ ready: true });

parentPort!.on('message', (job: { id: number; input: { path: string } | { bytes: Uint8Array }; policyJson?: string; now?: number }) => {
  void (async () => {
    try {
      const report = await validateDocument(deps, job.input, {
        ...(job.policyJson !== undefined ? { policy: parsePolicy(job.policyJson) } : {}),
        ...(job.now !== undefined ? { now: new Date(job.now) } : {}),
      });
      parentPort!.postMessage({ id: job.id, report });
    } catch (err) {
      const e =
        err instanceof AppError
          ? { code: err.code, message: err.message, status: err.status, retryable: err.retryable, ...(err.details ? { details: err.details } : {}) }
          : { message: err instanceof Error ? err.message : String(err) };
      parentPort!.postMessage({ id: job.id, error: e });
    }
  })();
});
