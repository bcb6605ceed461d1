/**
 * The Document Security Store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): certificates, OCSP
 * responses and CRLs needed to validate the signatures later, in an incremental update after them.
 * An existing DSS is kept and extended; identical items are stored once.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { IncrementalUpdate, decodeStreamFully, PdfDict, PdfDocument, PdfName, PdfRef, PdfStream, PdfString, name, type PdfValue } from '../pdf/index.ts';
import { pdfDate } from './pdfDate.ts';
import { PadesError } from './errors.ts';

export interface ValidationMaterial {
  certs: readonly Uint8Array[];
  ocsps: readonly Uint8Array[];
  crls: readonly Uint8Array[];
}

export interface VriEntry extends ValidationMaterial {
  /** The signature's /Contents string bytes (DER plus padding), whose SHA-1 keys the VRI (§5.4.2.3). */
  contents: Uint8Array;
  /** /TU: when the validation data was gathered. */
  time?: Date;
}

/** VRI key: upper-case hex SHA-1 of the /Contents bytes. */
export function vriKey(contents: Uint8Array): string {
  return createHash('sha1').update(contents).digest('hex').toUpperCase();
}

function fingerprint(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Compressed DSS items by fingerprint: the same CA certificates, CRLs and (until their nextUpdate)
 * OCSP answers go into every document a service signs. Small items only, a bounded number.
 */
const compressed = new Map<string, Uint8Array>();
const COMPRESSED_MAX_ENTRIES = 256;
const COMPRESSED_MAX_ITEM = 64 * 1024;

/** A stream holding one DER item (fingerprint `h`), Flate-compressed (DSS streams are plain streams, §12.8.4.3). */
function derStream(der: Uint8Array, h: string): PdfStream {
  let data = compressed.get(h);
  if (data === undefined) {
    data = new Uint8Array(deflateSync(der));
    if (der.length <= COMPRESSED_MAX_ITEM) {
      if (compressed.size >= COMPRESSED_MAX_ENTRIES) compressed.delete(compressed.keys().next().value!);
      compressed.set(h, data);
    }
  }
  return new PdfStream(new PdfDict({ Filter: name('FlateDecode'), Length: data.length }), data);
}

/**
 * Adds the material to the document's DSS in `up`. Existing DSS arrays are read (their streams'
 * decoded bytes fingerprinted) so nothing is stored twice.
 */
export function addToDss(up: IncrementalUpdate, doc: PdfDocument, material: ValidationMaterial, vri: readonly VriEntry[] = []): void {
  const catalogRef = doc.catalogRef;
  if (!catalogRef) throw new PadesError('pdf-structure-unsupported', 'the catalog is not an indirect object');
  const catalog = up.edit(catalogRef.num);
  const existing = doc.resolveDict(catalog.get('DSS'));
  const dss = new PdfDict({ Type: name('DSS') });
  const pools: Record<'Certs' | 'OCSPs' | 'CRLs', { refs: PdfValue[]; byHash: Map<string, PdfRef> }> = {
    Certs: { refs: [], byHash: new Map() },
    OCSPs: { refs: [], byHash: new Map() },
    CRLs: { refs: [], byHash: new Map() },
  };
  for (const key of ['Certs', 'OCSPs', 'CRLs'] as const) {
    const arr = doc.resolve(existing?.get(key));
    if (!Array.isArray(arr)) continue;
    for (const item of arr) {
      pools[key].refs.push(item);
      const s = doc.resolve(item);
      if (item instanceof PdfRef && s instanceof PdfStream) {
        try {
          pools[key].byHash.set(fingerprint(decodeStreamFully(s, 32 * 1024 * 1024)), item);
        } catch {
          /* an undecodable existing entry is kept as is, just not deduplicated */
        }
      }
    }
  }
  const refFor = (key: 'Certs' | 'OCSPs' | 'CRLs', der: Uint8Array): PdfRef => {
    const h = fingerprint(der);
    const found = pools[key].byHash.get(h);
    if (found) return found;
    const ref = up.add(derStream(der, h));
    pools[key].byHash.set(h, ref);
    pools[key].refs.push(ref);
    return ref;
  };
  for (const c of material.certs) refFor('Certs', c);
  for (const o of material.ocsps) refFor('OCSPs', o);
  for (const c of material.crls) refFor('CRLs', c);

  const vriDict = new PdfDict();
  const oldVri = doc.resolveDict(existing?.get('VRI'));
  if (oldVri) for (const [k, v] of oldVri.entries()) vriDict.set(k, v);
  for (const entry of vri) {
    const d = new PdfDict({ Type: name('VRI') });
    // Each item once per entry: a chain shared by the signer and its TSA is listed once.
    const certs = [...new Set(entry.certs.map((c) => refFor('Certs', c)))];
    const ocsps = [...new Set(entry.ocsps.map((o) => refFor('OCSPs', o)))];
    const crls = [...new Set(entry.crls.map((c) => refFor('CRLs', c)))];
    if (certs.length) d.set('Cert', certs);
    if (ocsps.length) d.set('OCSP', ocsps);
    if (crls.length) d.set('CRL', crls);
    // ISO 32000-2 §12.8.4.4 Table 262 /TU: when this validation data was gathered.
    if (entry.time) d.set('TU', PdfString.fromText(pdfDate(entry.time, 0)));
    vriDict.set(vriKey(entry.contents), up.add(d));
  }

  for (const key of ['Certs', 'OCSPs', 'CRLs'] as const) if (pools[key].refs.length) dss.set(key, pools[key].refs);
  if (vriDict.size > 0) dss.set('VRI', vriDict);
  // Keep any other keys an earlier writer put there.
  if (existing) for (const [k, v] of existing.entries()) if (!dss.has(k)) dss.set(k, v);
  catalog.set('DSS', up.add(dss));
  // PDF 2.0 extension marker for PAdES DSS (ISO 32000-2 / ETSI EN 319 142-1 §5.4.2).
  const ext = catalog.get('Extensions');
  const extDict = ext instanceof PdfDict ? ext : doc.resolveDict(ext) ?? new PdfDict();
  if (!extDict.has('ESIC')) {
    const copy = new PdfDict(extDict.entries());
    copy.set('ESIC', new PdfDict({ BaseVersion: PdfName.of('1.7'), ExtensionLevel: 1 }));
    catalog.set('Extensions', copy);
  }
}
