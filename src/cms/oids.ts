/**
 * Object identifiers used by the CMS layer, grouped by where they are defined. Kept as plain strings
 * (dotted form) because that is what both asn1js and pkijs expose.
 */

/** RFC 5652 §14 content types. */
export const OID_DATA = '1.2.840.113549.1.7.1';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
/** RFC 3161 §2.4.2: eContentType of a time-stamp token. */
export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';

/** RFC 5652 §11 signed attributes. */
export const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const OID_SIGNING_TIME = '1.2.840.113549.1.9.5';

/** RFC 2634 §5.4 signing-certificate (ESSCertID, SHA-1) and RFC 5035 §3 signing-certificate-v2. */
export const OID_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
export const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
/** RFC 3161 Appendix A: id-aa-signatureTimeStampToken (unsigned attribute, CAdES-T / PAdES B-T). */
export const OID_SIGNATURE_TIME_STAMP_TOKEN = '1.2.840.113549.1.9.16.2.14';

/** Digest algorithms (RFC 3279, RFC 5754, NIST CSOR, RFC 8419 for SHAKE256). */
export const OID_SHA1 = '1.3.14.3.2.26';
export const OID_SHA224 = '2.16.840.1.101.3.4.2.4';
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
export const OID_SHA512 = '2.16.840.1.101.3.4.2.3';
export const OID_SHA3_256 = '2.16.840.1.101.3.4.2.8';
export const OID_SHA3_384 = '2.16.840.1.101.3.4.2.9';
export const OID_SHA3_512 = '2.16.840.1.101.3.4.2.10';
export const OID_SHAKE256 = '2.16.840.1.101.3.4.2.12';

/** RSA (RFC 8017 Appendix C, RFC 4055). */
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_SHA1_WITH_RSA = '1.2.840.113549.1.1.5';
export const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
export const OID_SHA384_WITH_RSA = '1.2.840.113549.1.1.12';
export const OID_SHA512_WITH_RSA = '1.2.840.113549.1.1.13';
export const OID_SHA224_WITH_RSA = '1.2.840.113549.1.1.14';
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
export const OID_MGF1 = '1.2.840.113549.1.1.8';

/** ECDSA (RFC 5480, RFC 5758 §3.2). */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_ECDSA_WITH_SHA1 = '1.2.840.10045.4.1';
export const OID_ECDSA_WITH_SHA224 = '1.2.840.10045.4.3.1';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
export const OID_ECDSA_WITH_SHA512 = '1.2.840.10045.4.3.4';

/** BSI TR-03111 §5.2.1 "plain" ECDSA (signature value is r||s, not DER). */
export const OID_PLAIN_ECDSA_PREFIX = '0.4.0.127.0.7.1.1.4.1';

/** RFC 8410 / RFC 8419 EdDSA. */
export const OID_ED25519 = '1.3.101.112';
export const OID_ED448 = '1.3.101.113';

/** RFC 5280 §4.2.1.2 subjectKeyIdentifier extension. */
export const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
