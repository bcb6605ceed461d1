/**
 * The certificate extensions revocation checking reads (RFC 5280 §4.2), straight from the DER: node's
 * X509Certificate exposes AIA only as display text and not CRLDP or keyUsage bits at all.
 */
import type { X509Certificate } from 'node:crypto';
import { childrenOf, contentOf, readTlv, type Tlv } from '../../cms/der.ts';
import { expectTag, extensionsAt, oidAt, TAGS, type Extension } from '../../cms/crl.ts';
import { OID_KP_OCSP_SIGNING } from '../../cms/ocsp.ts';
import { OID_KP_TIME_STAMPING } from '../../cms/tsp.ts';

const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_CERTIFICATE_POLICIES = '2.5.29.32';
/** GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String. */
const TAG_URI = 0x86;

/** Every extension of the certificate (tbsCertificate.extensions [3] EXPLICIT). */
export function certificateExtensions(cert: X509Certificate): Extension[] {
  const der = new Uint8Array(cert.raw);
  const tbs = childrenOf(der, readTlv(der, 0))[0];
  if (tbs === undefined) return [];
  const ext = childrenOf(der, tbs).find((t) => t.tag === 0xa3);
  if (ext === undefined) return [];
  return extensionsAt(der, expectTag(childrenOf(der, ext)[0], TAGS.SEQUENCE, 'extensions'), 'extensions');
}

function find(cert: X509Certificate, oid: string): Extension | undefined {
  return certificateExtensions(cert).find((e) => e.oid === oid);
}

function uri(buf: Uint8Array, t: Tlv): string {
  return Buffer.from(contentOf(buf, t)).toString('latin1');
}

/** id-ad-ocsp access locations of the Authority Information Access extension (RFC 5280 §4.2.2.1). */
export function ocspUrls(cert: X509Certificate): string[] {
  const ext = find(cert, OID_AIA);
  if (ext === undefined) return [];
  const v = ext.value;
  const out: string[] = [];
  for (const ad of childrenOf(v, readTlv(v, 0))) {
    const [method, location] = childrenOf(v, ad);
    if (oidAt(v, method, 'accessMethod') === OID_AD_OCSP && location?.tag === TAG_URI) out.push(uri(v, location));
  }
  return out;
}

/**
 * fullName URIs of the CRL distribution points (RFC 5280 §4.2.1.13). Points with a cRLIssuer (indirect
 * CRLs) or reasons (partitioned CRLs) are skipped: a complete CRL from the certificate's issuer is wanted.
 */
export function crlUrls(cert: X509Certificate): string[] {
  const ext = find(cert, OID_CRL_DISTRIBUTION_POINTS);
  if (ext === undefined) return [];
  const v = ext.value;
  const out: string[] = [];
  for (const dp of childrenOf(v, readTlv(v, 0))) {
    const parts = childrenOf(v, dp);
    if (parts.some((p) => p.tag === 0x81 || p.tag === 0xa1 || p.tag === 0xa2)) continue;
    const dpName = parts.find((p) => p.tag === 0xa0);
    // DistributionPointName ::= CHOICE { fullName [0] IMPLICIT GeneralNames, nameRelativeToCRLIssuer [1] }
    const fullName = dpName && childrenOf(v, dpName).find((p) => p.tag === 0xa0);
    if (fullName === undefined) continue;
    for (const gn of childrenOf(v, fullName)) if (gn.tag === TAG_URI) out.push(uri(v, gn));
  }
  return out;
}

/** extendedKeyUsage purposes (RFC 5280 §4.2.1.12), undefined when the extension is absent. */
export function extendedKeyUsage(cert: X509Certificate): string[] | undefined {
  const ext = find(cert, OID_EXT_KEY_USAGE);
  if (ext === undefined) return undefined;
  const v = ext.value;
  return childrenOf(v, readTlv(v, 0)).map((t) => oidAt(v, t, 'KeyPurposeId'));
}

/** certificatePolicies policy identifiers (RFC 5280 §4.2.1.4), undefined when the extension is absent. */
export function certificatePolicies(cert: X509Certificate): string[] | undefined {
  const ext = find(cert, OID_CERTIFICATE_POLICIES);
  if (ext === undefined) return undefined;
  const v = ext.value;
  // certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
  // PolicyInformation ::= SEQUENCE { policyIdentifier OBJECT IDENTIFIER, policyQualifiers … OPTIONAL }
  const outer = expectTag(readTlv(v, 0), TAGS.SEQUENCE, 'certificatePolicies');
  if (outer.end !== v.length) throw new Error('certificatePolicies: bytes after the SEQUENCE');
  const infos = childrenOf(v, outer);
  if (infos.length === 0) throw new Error('certificatePolicies: empty (SIZE (1..MAX))');
  return infos.map((info) => oidAt(v, childrenOf(v, expectTag(info, TAGS.SEQUENCE, 'PolicyInformation'))[0], 'policyIdentifier'));
}

const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/**
 * extendedKeyUsage purposes limited to time-stamping or OCSP signing (a TSA's or a responder's key,
 * whose purpose must stay apart: RFC 5280 §4.2.1.12, EN 319 421 §7.2): such a key does not sign
 * documents. No extension (undefined) or anyExtendedKeyUsage: not limited.
 */
export function timestampOrOcspOnly(purposes: readonly string[] | undefined): boolean {
  return purposes !== undefined && !purposes.includes(OID_ANY_EXTENDED_KEY_USAGE) && purposes.every((p) => p === OID_KP_TIME_STAMPING || p === OID_KP_OCSP_SIGNING);
}

export type KeyUsageBit = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';

/** keyUsage's named bits in their BIT STRING order (RFC 5280 §4.2.1.3), digitalSignature first. */
export const KEY_USAGE_BITS: readonly KeyUsageBit[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

/** keyUsage named bits (RFC 5280 §4.2.1.3), undefined when the extension is absent. */
export function keyUsage(cert: X509Certificate): Set<KeyUsageBit> | undefined {
  const ext = find(cert, OID_KEY_USAGE);
  if (ext === undefined) return undefined;
  const content = contentOf(ext.value, expectTag(readTlv(ext.value, 0), TAGS.BIT_STRING, 'keyUsage'));
  const bits = content.subarray(1);
  const out = new Set<KeyUsageBit>();
  KEY_USAGE_BITS.forEach((name, i) => {
    if (((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0) out.add(name);
  });
  return out;
}

export function hasExtension(cert: X509Certificate, oid: string): boolean {
  return find(cert, oid) !== undefined;
}
