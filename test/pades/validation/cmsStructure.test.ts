/**
 * RFC 5652 §5.3 / §11.1: when a SignerInfo has signed attributes, a content-type attribute is among
 * them and names the eContentType that was signed (id-data for a PDF signature). A CMS without it, or
 * claiming another content type, is malformed: TOTAL-FAILED/FORMAT_FAILURE, however well its signature
 * value verifies. The CMS is re-signed by the test with the same key, so only the attributes differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleSignedData, digest, oids, parseSignedData, type SignedAttributes } from '../../../src/cms/index.ts';
import { encodeOid } from '../../../src/cms/encode.ts';
import { setOf } from '../../../src/cms/der.ts';
import { attribute } from '../../../src/cms/signedAttributes.ts';
import { signPdf } from '../../../src/pades/index.ts';
import { STRICT_POLICY, validatePdf, type SignatureReport } from '../../../src/pades/validation/index.ts';
import { SECTIONS, createTestPki, scriptedRevocation, type Issued, type TestPki } from './pathTestKit.ts';

let pki: TestPki;
let root: Issued;
let signer: Issued;

beforeAll(() => {
  pki = createTestPki('cms-structure', `${SECTIONS.ca}${SECTIONS.leaf}`);
  root = pki.root('CS Root', 'ca');
  signer = pki.issue('CS signer', root, 'leaf');
}, 60_000);

afterAll(() => pki?.cleanup());

/** Signs the test PDF, then replaces the CMS by one whose signed attributes `edit` rewrites (re-signed). */
async function signWith(edit: (attrs: Array<{ oid: string; values: readonly Uint8Array[] }>) => Array<{ oid: string; values: readonly Uint8Array[] }>) {
  const r = await signPdf({ bytes: pki.pdf() }, { memory: true }, {
    signer: signer.signer,
    chain: [root.der],
    extraReservedBytes: 200,
    async beforeEmbed(cms) {
      const parsed = parseSignedData(cms);
      const encoded = edit([...parsed.signedAttributes!.all]).map((a) => attribute(a.oid, a.values));
      const der = setOf(0x31, encoded.map((a) => a.der));
      const signedAttributes: SignedAttributes = { der, attributes: encoded, digestAlgorithm: 'SHA-256' };
      const signatureValue = await signer.signer.sign(digest('SHA-256', der), 'SHA-256', 'RSASSA-PKCS1-v1_5');
      return assembleSignedData({ signedAttributes, signatureValue, signerCertificate: signer.der, chain: [root.der], digestAlgorithm: 'SHA-256', scheme: 'RSASSA-PKCS1-v1_5' });
    },
  });
  const report = await validatePdf({ bytes: r.bytes! }, { policy: STRICT_POLICY, trustAnchors: [root.cert], revocationSource: scriptedRevocation() });
  return report.signatures[0];
}
const verdict = (s: SignatureReport | undefined) => `${s?.indication}/${s?.subIndication ?? '-'} ${JSON.stringify(s?.checks.filter((c) => c.status !== 'passed'))}`;

describe('the content-type signed attribute (RFC 5652 §5.3, §11.1)', () => {
  it('re-signed with the attributes unchanged: TOTAL-PASSED (the harness itself is sound)', async () => {
    const s = await signWith((a) => a);
    expect(s?.indication, verdict(s)).toBe('TOTAL-PASSED');
  });

  it('without content-type: TOTAL-FAILED/FORMAT_FAILURE', async () => {
    const s = await signWith((a) => a.filter((x) => x.oid !== oids.OID_CONTENT_TYPE));
    expect(s?.checks.find((c) => c.name === 'signature-value')?.status ?? 'not reached').not.toBe('failed');
    expect(s?.indication, verdict(s)).toBe('TOTAL-FAILED');
    expect(s?.subIndication).toBe('FORMAT_FAILURE');
    expect(s?.checks.find((c) => c.name === 'cms-structure')?.detail).toMatch(/without content-type/);
  });

  it('with a content-type other than the eContentType (id-ct-TSTInfo for id-data): TOTAL-FAILED/FORMAT_FAILURE', async () => {
    const s = await signWith((a) => a.map((x) => (x.oid === oids.OID_CONTENT_TYPE ? { oid: x.oid, values: [encodeOid(oids.OID_TST_INFO)] } : x)));
    expect(s?.indication, verdict(s)).toBe('TOTAL-FAILED');
    expect(s?.subIndication).toBe('FORMAT_FAILURE');
    expect(s?.checks.find((c) => c.name === 'cms-structure')?.detail).toMatch(/differs from eContentType/);
  });
});
