/** The DSS of a signed PDF, decoded: its certificates, OCSP responses, CRLs and VRI keys. */
import { PdfDocument, PdfStream, decodeStreamFully } from '../../src/pdf/index.ts';

export function dssOf(pdf: string | Uint8Array): { certs: Uint8Array[]; ocsps: Uint8Array[]; crls: Uint8Array[]; vriKeys: string[] } {
  const doc = PdfDocument.open(pdf);
  try {
    const dss = doc.resolveDict(doc.catalog.get('DSS'));
    const read = (k: string) => {
      const arr = doc.resolve(dss?.get(k));
      return Array.isArray(arr) ? arr.map((r) => decodeStreamFully(doc.resolve(r) as PdfStream)) : [];
    };
    const vri = doc.resolveDict(dss?.get('VRI'));
    return { certs: read('Certs'), ocsps: read('OCSPs'), crls: read('CRLs'), vriKeys: vri ? [...vri.keys()] : [] };
  } finally {
    doc.close();
  }
}
