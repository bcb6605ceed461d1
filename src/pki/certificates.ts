/** Loading certificates from PEM/DER files and folders. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { PkiError } from './errors.ts';

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, or the single DER certificate. */
export function parseCertificates(bytes: Uint8Array, source = 'input'): X509Certificate[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    return [...text.matchAll(PEM_CERT)].map((m) => new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  }
  try {
    return [new X509Certificate(Buffer.from(bytes))];
  } catch (cause) {
    throw new PkiError('certificate-malformed', `${source} is neither a PEM bundle nor a DER certificate`, { cause });
  }
}

/** Certificates from a file, or from every *.pem/*.crt/*.cer/*.der file of a folder (not recursive). */
export function loadCertificates(fileOrDir: string): X509Certificate[] {
  let st;
  try {
    st = statSync(fileOrDir);
  } catch (cause) {
    throw new PkiError('certificate-source-missing', `no certificate file or folder at ${fileOrDir}`, { status: 500, cause });
  }
  if (!st.isDirectory()) return parseCertificates(readFileSync(fileOrDir), fileOrDir);
  return readdirSync(fileOrDir)
    .filter((f) => /\.(pem|crt|cer|der)$/i.test(f))
    .sort()
    .flatMap((f) => parseCertificates(readFileSync(path.join(fileOrDir, f)), f));
}
