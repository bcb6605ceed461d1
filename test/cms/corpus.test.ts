/**
 * Real-world signatures from the shared corpus (/work/shared/corpus, see its manifest.json): parsing
 * and the CMS signature check must agree with the upstream test suites' verdicts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CmsError, oids, parseSignedData, verifySignerInfo } from '../../src/cms/index.ts';
import { extractSignatures, type ExtractedSignature } from './pdfSignatureExtract.ts';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');

function signaturesOf(file: string): ExtractedSignature[] {
  const found = extractSignatures(path.join(corpus, file));
  expect(found.length, `signatures in ${file}`).toBeGreaterThan(0);
  return found;
}

/** The signed bytes: the ByteRange for a PDF signature, eContent for an encapsulating one (timestamps, adbe.pkcs7.sha1). */
function verify(signature: ExtractedSignature) {
  const parsed = parseSignedData(signature.contents);
  // Encapsulating signatures (document timestamps, adbe.pkcs7.sha1) sign their eContent, not the ByteRange.
  const options = parsed.encapsulatedContent === undefined ? { content: [...signature.signedBytes] } : {};
  return { parsed, result: verifySignerInfo(parsed, options) };
}

interface CorpusCase {
  readonly file: string;
  readonly signatures: number;
  readonly algorithms: readonly string[];
  readonly check?: (parsed: ReturnType<typeof parseSignedData>[]) => void;
}

const CASES: readonly CorpusCase[] = [
  { file: 'intact/dss-pdf-signed-original.pdf', signatures: 1, algorithms: ['RSASSA-PKCS1-v1_5/SHA-256'] },
  {
    file: 'intact/pyhanko-sig-with-ski-sid.pdf',
    signatures: 1,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-256'],
    check: ([p]) => {
      expect(p!.sid.kind).toBe('subjectKeyIdentifier');
      expect(p!.signerCertificate).toBeDefined();
    },
  },
  {
    file: 'intact/pyhanko-pades-with-old-style-signing-cert-attr.pdf',
    signatures: 1,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-256'],
    check: ([p]) => {
      // RFC 2634 ESSCertID: SHA-1 hash, here without IssuerSerial.
      const v1 = p!.signedAttributes?.signingCertificate?.[0];
      expect(v1?.hashAlgorithm).toBe('SHA-1');
      expect(v1?.issuerSerial).toBeUndefined();
      expect(p!.signedAttributes?.signingCertificateV2).toBeUndefined();
    },
  },
  {
    file: 'intact/pyhanko-sig-no-signed-attrs.pdf',
    signatures: 1,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-256'],
    check: ([p]) => expect(p!.signedAttributes).toBeUndefined(),
  },
  {
    file: 'intact/dss-pkcs7.pdf',
    signatures: 1,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-256'],
    check: ([p]) => expect(p!.signedAttributes?.signingTime?.toISOString()).toBe('2015-05-26T08:09:03.000Z'),
  },
  {
    file: 'intact/dss-Signature-P-HU_MIC-1.pdf',
    signatures: 1,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-256'],
    check: ([p]) => {
      // B-T: one signature time-stamp token, itself a SignedData over TSTInfo that verifies.
      expect(p!.signatureTimeStampTokens).toHaveLength(1);
      const token = parseSignedData(p!.signatureTimeStampTokens[0]!);
      expect(token.contentType).toBe(oids.OID_TST_INFO);
      expect(verifySignerInfo(token)).toMatchObject({ intact: true, content: 'encapsulated' });
    },
  },
  { file: 'intact-alg/dss-Signature-P-DE_SCI-4.pdf', signatures: 2, algorithms: ['RSASSA-PSS/SHA-256', 'RSASSA-PKCS1-v1_5/SHA-256'] },
  {
    file: 'intact-alg/dss-Signature-P-HU_POL-7.pdf',
    signatures: 4,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-256', 'RSASSA-PKCS1-v1_5/SHA-256', 'ECDSA/SHA-256', 'ECDSA/SHA-256'],
  },
  {
    file: 'intact-alg/dss-dss-PLAIN-ECDSA--TeleSec_PKS_eIDAS_QES_CA_1-baseline-b.pdf',
    signatures: 1,
    algorithms: ['PLAIN-ECDSA/SHA-256'],
  },
  { file: 'intact-alg/pyhanko-minimal-signed-twice-no-sig-type.pdf', signatures: 2, algorithms: ['ECDSA/SHA-384', 'ECDSA/SHA-384'] },
  { file: 'intact-alg/pyhanko-extensions-direct.pdf', signatures: 2, algorithms: ['RSASSA-PKCS1-v1_5/SHA-256', 'Ed25519'] },
  {
    file: 'intact-alg/pyhanko-ed448-shake256-nolen.pdf',
    signatures: 1,
    algorithms: ['Ed448'],
    check: ([p]) => expect(p!.digestAlgorithm.name).toBe('SHAKE256'),
  },
  {
    file: 'intact-alg/dss-pkcs7_sha1.pdf',
    signatures: 2,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-1', 'RSASSA-PKCS1-v1_5/SHA-1'],
  },
  {
    file: 'intact-ltv/dss-pades-ltv.pdf',
    signatures: 3,
    algorithms: ['RSASSA-PKCS1-v1_5/SHA-512', 'RSASSA-PKCS1-v1_5/SHA-512', 'RSASSA-PKCS1-v1_5/SHA-512'],
  },
];

describe.each(CASES)('$file', ({ file, signatures, algorithms, check }) => {
  it('parses every signature and its CMS signature and message digest verify', () => {
    const results = signaturesOf(file).map(verify);
    expect(results).toHaveLength(signatures);
    for (const { result } of results) {
      expect(result, JSON.stringify(result)).toMatchObject({ status: 'valid', intact: true });
      expect(result.signingCertificate).not.toBe('mismatch');
    }
    expect(results.map(({ result }) => result.algorithm)).toEqual(algorithms);
    check?.(results.map(({ parsed }) => parsed));
  });
});

describe('corpus files that must not verify', () => {
  it('dss-malformed-pades.pdf: the signature verifies but the header bytes changed, so message-digest mismatches', () => {
    const [signature] = signaturesOf('corrupted/dss-malformed-pades.pdf');
    const { result } = verify(signature!);
    expect(result).toMatchObject({ status: 'valid', messageDigest: 'mismatch', intact: false });
  });

  it('dss-Signature-P-HU_NET-2.pdf: an unknown digest algorithm gives indeterminate, not valid', () => {
    const [signature] = signaturesOf('corrupted/dss-Signature-P-HU_NET-2.pdf');
    const { parsed, result } = verify(signature!);
    expect(parsed.digestAlgorithm.name).toBeUndefined();
    expect(result).toMatchObject({ status: 'indeterminate', problem: 'unsupported-algorithm', intact: false });
  });

  it('dss-pdf-with-empty-sig.pdf: an empty /Contents is a typed CmsError', () => {
    const [signature] = signaturesOf('usf/dss-pdf-with-empty-sig.pdf');
    expect(() => parseSignedData(signature!.contents)).toThrow(CmsError);
  });

  it('pyhanko-pdf-sig-with-econtent.pdf: eContent is what was signed, so the ByteRange conflicts', () => {
    const [signature] = signaturesOf('corrupted/pyhanko-pdf-sig-with-econtent.pdf');
    const parsed = parseSignedData(signature!.contents);
    expect(parsed.encapsulatedContent).toBeDefined();
    const result = verifySignerInfo(parsed, { content: [...signature!.signedBytes] });
    expect(result).toMatchObject({ content: 'conflict', intact: false });
  });
});
