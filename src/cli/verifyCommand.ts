/** `chungthuc verify FILE…`: validate signatures; exit 0 only when every file passes. */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.ts';
import { buildValidationDeps } from '../main.ts';
import { parsePolicy, policyToJson, summarizeReport } from '../pades/validation/index.ts';
import { CrlFetcher, OcspClient, RevocationChecker } from '../pki/index.ts';
import { passed, validateDocument } from '../services/validateDocument.ts';
import type { Command } from './command.ts';

export const verifyCommand: Command = {
  path: ['verify'],
  summary: 'validate the signatures of PDF files (exit 0 only when every signature of every file passes)',
  usage: 'FILE.pdf… [--json] [--policy policy.json] [--online]',
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
    let policy = typeof values.policy === 'string' ? parsePolicy(readFileSync(values.policy, 'utf8')) : deps.policy;
    if (values.online === true) policy = { ...policy, revocation: { ...policy.revocation, fetchOnline: true } };
    let allPassed = true;
    const reports = [];
    for (const file of positionals) {
      const report = await validateDocument(deps, { path: file }, { policy });
      allPassed &&= passed(report);
      if (values.json === true) reports.push(report);
      else io.out(summarizeReport(report) + '\n');
    }
    if (values.json === true) io.out(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
    return allPassed ? 0 : 1;
  },
};
