/** `chungthuc verify FILE…`: validate signatures; exit 0 only when every file passes. */
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { buildValidationDeps, readPolicyFile } from '../main.ts';
import { policyToJson, summarizeReport, type ValidationReport } from '../pades/validation/index.ts';
import { CrlFetcher, OcspClient, RevocationChecker } from '../pki/index.ts';
import { passed, validateDocument } from '../services/validateDocument.ts';
import type { Command } from './command.ts';

/**
 * The report of a file that could not be read (missing, a directory, no permission): like that of a file
 * that is not a PDF, so the files after it are still checked and the exit code says that one failed.
 */
function unreadable(file: string, policyName: string, err: NodeJS.ErrnoException): ValidationReport {
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return {
    source: path.basename(file),
    validationTime: new Date().toISOString(),
    policyName,
    documentIndication: 'NO_SIGNATURE',
    document: { revisions: 0, size: 0, error: { code: 'file-unreadable', message: why } },
    signatures: [],
    revisions: [],
    errors: [],
  };
}

export const verifyCommand: Command = {
  path: ['verify'],
  summary: 'validate the signatures of PDF files (exit 0 only when every signature of every file passes)',
  usage: 'FILE.pdf… [--json] [--policy policy.json] [--online]',
  operands: true,
  options: {
    json: [{ type: 'boolean' }, 'print the full reports as JSON instead of one line per file'],
    policy: [{ type: 'string' }, 'validation policy JSON file (default: VALIDATION_POLICY or the strict policy)'],
    online: [{ type: 'boolean' }, 'fetch OCSP/CRL online for signatures without embedded revocation data'],
    'print-policy': [{ type: 'boolean' }, 'print the effective policy as JSON (a template for VALIDATION_POLICY) and exit'],
  },
  async run(values, positionals, io) {
    if (values['print-policy'] === true) {
      const config = loadConfig();
      io.out(policyToJson(buildValidationDeps(config).policy) + '\n');
      return 0;
    }
    if (positionals.length === 0) {
      io.err('chungthuc verify: give at least one PDF file\n');
      return 2;
    }
    const config = loadConfig();
    const checker = new RevocationChecker({
      ocsp: new OcspClient({ url: config.revocation.ocspUrl, timeoutMs: config.revocation.timeoutMs }),
      crl: new CrlFetcher({ timeoutMs: config.revocation.timeoutMs }),
    });
    const deps = buildValidationDeps(config, checker);
    let policy = typeof values.policy === 'string' ? readPolicyFile(values.policy) : deps.policy;
    if (values.online === true) policy = { ...policy, revocation: { ...policy.revocation, fetchOnline: true } };
    let allPassed = true;
    const reports = [];
    for (const file of positionals) {
      const report = await validateDocument(deps, { path: file }, { policy }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).syscall === undefined) throw err;
        return unreadable(file, policy.name, err as NodeJS.ErrnoException);
      });
      allPassed &&= passed(report);
      if (values.json === true) reports.push(report);
      else io.out(summarizeReport(report) + '\n');
    }
    if (values.json === true) io.out(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
    return allPassed ? 0 : 1;
  },
};
