/**
 * The few fields of an X.509 certificate (RFC 5280 §4.1) that CMS needs, as exact DER slices: the
 * issuer Name and serialNumber go verbatim into IssuerAndSerialNumber / IssuerSerial so that a verifier
 * comparing bytes finds the certificate.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { CmsError } from './CmsError.ts';
import { memoByContent } from './contentMemo.ts';
import { childrenOf, contentOf, readTlv, slice } from './der.ts';

export interface CertificateFields {
  /** DER of tbsCertificate.issuer (a Name). */
  readonly issuer: Uint8Array;
  /** DER of the serialNumber INTEGER, tag and length included. */
  readonly serialNumber: Uint8Array;
  /** DER of tbsCertificate.subject. */
  readonly subject: Uint8Array;
  /** DER of subjectPublicKeyInfo. */
  readonly subjectPublicKeyInfo: Uint8Array;
}

const TAG_SEQUENCE = 0x30;
const TAG_INTEGER = 0x02;
const TAG_VERSION = 0xa0;

/*
 * Both readers are pure functions of the certificate bytes and run on every signature and token
 * (the signer's, its chain's and the TSA's certificates recur): results are memoised per content.
 * Callers treat certificate buffers as immutable.
 */
export const certificateFields: (der: Uint8Array) => CertificateFields = memoByContent(256, (der) => readCertificateFields(der));

export const certificateKey: (der: Uint8Array) => CertificateKey = memoByContent(256, (der) => readCertificateKey(der));

/**
 * The certificate parsed by node (~0.15 ms each), shared per content: the same few certificates are
 * parsed again for every signature (chain building, revocation, DSS, the register's references).
 * X509Certificate objects are immutable.
 */
export const x509Certificate: (der: Uint8Array) => X509Certificate = memoByContent(256, (der) => new X509Certificate(der));

function readCertificateFields(der: Uint8Array): CertificateFields {
  try {
    const cert = readTlv(der, 0);
    if (cert.tag !== TAG_SEQUENCE || cert.end !== der.length) throw new Error('not a single SEQUENCE');
    const tbs = childrenOf(der, cert)[0];
    if (tbs === undefined || tbs.tag !== TAG_SEQUENCE) throw new Error('no tbsCertificate');
    const fields = childrenOf(der, tbs);
    // TBSCertificate: version [0] EXPLICIT is optional (absent means v1).
    const at = fields[0]?.tag === TAG_VERSION ? 1 : 0;
    const serial = fields[at];
    const issuer = fields[at + 2];
    const subject = fields[at + 4];
    const spki = fields[at + 5];
    if (serial?.tag !== TAG_INTEGER || issuer?.tag !== TAG_SEQUENCE || subject?.tag !== TAG_SEQUENCE || spki?.tag !== TAG_SEQUENCE) {
      throw new Error('unexpected TBSCertificate layout');
    }
    return {
      issuer: slice(der, issuer),
      serialNumber: slice(der, serial),
      subject: slice(der, subject),
      subjectPublicKeyInfo: slice(der, spki),
    };
  } catch (cause) {
    if (cause instanceof CmsError) throw cause;
    throw new CmsError('cms-malformed', `not a DER X.509 certificate: ${(cause as Error).message}`, { cause });
  }
}

/** Value octets of an INTEGER TLV without redundant leading zeros, for serial comparison. */
export function integerValue(integerDer: Uint8Array): Uint8Array {
  const value = contentOf(integerDer, readTlv(integerDer, 0));
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  return value.slice(i);
}

export type PublicKeyKind = 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'other';

export interface CertificateKey {
  readonly kind: PublicKeyKind;
  readonly publicKey: KeyObject;
  /** RSA modulus bits, or the EC curve order bits. */
  readonly bits: number | undefined;
}

function readCertificateKey(der: Uint8Array): CertificateKey {
  let x509: X509Certificate;
  try {
    x509 = x509Certificate(der);
  } catch (cause) {
    throw new CmsError('cms-malformed', 'the certificate cannot be decoded', { cause });
  }
  const publicKey = x509.publicKey;
  const details = publicKey.asymmetricKeyDetails;
  switch (publicKey.asymmetricKeyType) {
    case 'rsa':
      return { kind: 'RSA', publicKey, bits: details?.modulusLength };
    case 'rsa-pss':
      return { kind: 'RSA-PSS', publicKey, bits: details?.modulusLength };
    case 'ec':
      return { kind: 'EC', publicKey, bits: curveBits(details?.namedCurve) };
    case 'ed25519':
      return { kind: 'Ed25519', publicKey, bits: 255 };
    case 'ed448':
      return { kind: 'Ed448', publicKey, bits: 448 };
    default:
      return { kind: 'other', publicKey, bits: undefined };
  }
}

function curveBits(curve: string | undefined): number | undefined {
  switch (curve) {
    case 'prime256v1':
    case 'P-256':
      return 256;
    case 'secp384r1':
    case 'P-384':
      return 384;
    case 'secp521r1':
    case 'P-521':
      return 521;
    default:
      return undefined;
  }
}
