/**
 * Independent tools that prove outputs (shared/docs/standards.md): qpdf --check, pdfsig, openssl cms.
 * They parse what the tools print; nothing here reuses the code under test except to locate ranges.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_PATHS } from '../../scripts/devPkiPaths.ts';

export interface QpdfResult {
  ok: boolean;
  warnings: string[];
  output: string;
}

/** `qpdf --check`: exit 0 = clean, 3 = warnings, 2 = errors. */
export function qpdfCheck(file: string): QpdfResult {
  const r = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
  const output = r.stdout + r.stderr;
  const warnings = output.split('\n').filter((l) => /WARNING/i.test(l));
  return { ok: r.status === 0 && warnings.length === 0, warnings, output };
}

export interface PdfsigSignature {
  field: string;
  signerCommonName: string;
  signatureValid: boolean;
  signatureStatus: string;
  certificateStatus: string;
  total: boolean;
  subFilter: string;
  hash: string;
}

/**
 * `pdfsig` with the dev NSS db (root trusted). Certificate status is only meaningful with the dev
 * OCSP responder running: poppler reports a stale NSS error as "Unknown issue" otherwise.
 */
export function pdfsig(file: string, opts: { nssdb?: string } = {}): PdfsigSignature[] {
  const out = execFileSync('pdfsig', ['-nssdir', `sql:${opts.nssdb ?? path.join(DEV_PATHS.certsDir, 'nssdb')}`, file], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  // Unsigned signature fields are listed too, without a validation line: leave them out.
  const blocks = out.split(/^Signature #\d+:$/m).slice(1).filter((b) => /- Signature Validation:/.test(b));
  return blocks.map((b) => {
    const get = (label: string) => new RegExp(`- ${label}: (.*)$`, 'm').exec(b)?.[1]?.trim() ?? '';
    const status = get('Signature Validation');
    return {
      field: get('Signature Field Name'),
      signerCommonName: get('Signer Certificate Common Name'),
      signatureStatus: status,
      signatureValid: status === 'Signature is Valid.',
      certificateStatus: get('Certificate Validation'),
      total: /^\s*- Total document signed$/m.test(b),
      subFilter: get('Signature Type'),
      hash: get('Signing Hash Algorithm'),
    };
  });
}

/** DER length of the top-level TLV at the start of `der` (drops /Contents zero padding). */
export function derLength(der: Uint8Array): number {
  if (der[0] !== 0x30) throw new Error('not a DER SEQUENCE');
  const b = der[1]!;
  if (b < 0x80) return 2 + b;
  const n = b & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return 2 + n + len;
}

export interface RawSignature {
  byteRange: number[];
  contents: Uint8Array;
}

/** Every /ByteRange + /Contents pair in file order, found textually (independent of src/pdf). */
export function rawSignatures(file: string): RawSignature[] {
  const text = readFileSync(file).toString('latin1');
  const out: RawSignature[] = [];
  const re = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;
  for (const m of text.matchAll(re)) {
    const br = [m[1], m[2], m[3], m[4]].map(Number);
    const hex = text.slice(br[1]! + 1, br[2]! - 1);
    const bytes = Buffer.from(hex, 'hex');
    out.push({ byteRange: br, contents: new Uint8Array(bytes.subarray(0, derLength(bytes))) });
  }
  return out;
}

/** `openssl cms -verify` over the signed ranges against the dev root. */
export function opensslCmsVerify(file: string, sig: RawSignature): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cms-verify-'));
  try {
    const data = readFileSync(file);
    const [a, b, c, d] = sig.byteRange as [number, number, number, number];
    writeFileSync(path.join(dir, 'content'), Buffer.concat([data.subarray(a, a + b), data.subarray(c, c + d)]));
    writeFileSync(path.join(dir, 'sig.der'), sig.contents);
    const r = spawnSync(
      'openssl',
      ['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'sig.der', '-content', 'content', '-CAfile', DEV_PATHS.rootCaPem, '-purpose', 'any', '-out', '/dev/null'],
      { cwd: dir, encoding: 'utf8' },
    );
    return { ok: r.status === 0 && /Verification successful/.test(r.stderr), output: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl cms -cmsout -print` of a DER CMS, for asserting attributes. */
export function opensslCmsPrint(der: Uint8Array): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cms-print-'));
  try {
    writeFileSync(path.join(dir, 'sig.der'), der);
    return execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'sig.der'], { cwd: dir, encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
