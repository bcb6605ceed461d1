/**
 * The software key the peer libraries sign with: RSA-2048 like the HSM key `officer1`, with a
 * certificate issued by the same dev issuing CA, packed with the same chain into a PKCS#12 file, so
 * every engine embeds a CMS of the same shape (three certificates, one RSA-2048 signature).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BENCH_PATHS } from './paths.ts';

export interface SoftKey {
  dir: string;
  p12Path: string;
  passphrase: string;
  dispose(): void;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

export function makeSoftKey(): SoftKey {
  const dir = mkdtempSync(path.join(tmpdir(), 'chungthuc-bench-'));
  const key = path.join(dir, 'soft.key');
  const csr = path.join(dir, 'soft.csr');
  const crt = path.join(dir, 'soft.pem');
  const ext = path.join(dir, 'ext.cnf');
  const p12Path = path.join(dir, 'soft.p12');
  const passphrase = 'bench';
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
  openssl(['req', '-new', '-key', key, '-subj', '/C=VN/O=chungthuc bench/CN=Bench software signer', '-out', csr]);
  // Same extensions as the dev officer certificates (RFC 5280 §4.2.1.3: nonRepudiation for signing).
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,nonRepudiation',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  openssl([
    'x509', '-req', '-in', csr, '-CA', BENCH_PATHS.issuingCaPem, '-CAkey', BENCH_PATHS.issuingCaKey,
    '-set_serial', String(Date.now()), '-days', '30', '-sha256', '-extfile', ext, '-out', crt,
  ]);
  // PBES2/AES-256 + HMAC-SHA-256 MAC: the OpenSSL 3 default algorithms, read by node-forge and @libpdf/core.
  openssl([
    'pkcs12', '-export', '-inkey', key, '-in', crt, '-certfile', BENCH_PATHS.chainPem, '-name', 'bench',
    '-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-macalg', 'sha256', '-passout', `pass:${passphrase}`, '-out', p12Path,
  ]);
  readFileSync(p12Path); // fail here, not in a child, if the file is missing
  return { dir, p12Path, passphrase, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
