/**
 * An officer and their personal key are one person: the stamp prints the officer's name, the
 * signature carries the key's certificate. These compare the two (certification, officer accounts).
 */
import { x509Certificate } from '../cms/index.ts';
import { InputError } from '../errors.ts';
import type { SigningDeps } from './signDocument.ts';

/** The holder's name in a certificate: its subject's CN. */
export function certificateHolder(der: Uint8Array): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(x509Certificate(der).subject)?.[1];
}

/**
 * The holder's name in the certificate of an HSM key, for the checks that an officer and their key
 * are one person; undefined when the key, its certificate or the token is not at hand.
 */
export async function keyHolder(getSigner: SigningDeps['getSigner'], keyLabel: string): Promise<string | undefined> {
  try {
    const signer = await getSigner(keyLabel);
    return signer.certificate ? certificateHolder(signer.certificate) : undefined;
  } catch {
    return undefined;
  }
}

/** Two spellings of one person's name: Unicode NFC, spaces collapsed, case ignored ("NGUYỄN VĂN AN" = "Nguyễn Văn An"). */
export function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('vi');
  return norm(a) === norm(b);
}

/**
 * Refuses to give an officer named `name` a personal key whose certificate names someone else
 * (422 signing-key-name-mismatch): the stamp would print one person and the signature carry another.
 * Skipped when `holderOf` cannot tell (no token, no certificate); the certification checks again.
 */
export async function checkKeyHolder(holderOf: (keyLabel: string) => Promise<string | undefined>, keyLabel: string, name: string): Promise<void> {
  const holder = await holderOf(keyLabel);
  if (holder !== undefined && !sameName(name, holder)) {
    throw new InputError('signing-key-name-mismatch', `the certificate of key "${keyLabel}" names "${holder}", not "${name}"`, {
      details: { field: 'signingKeyLabel', certificateName: holder },
    });
  }
}
