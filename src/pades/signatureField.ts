/**
 * Puts a signature (or document timestamp) dictionary with its placeholders into an incremental
 * update, in a new or an existing empty signature field (ISO 32000-1 §12.7.4.5, §12.8), with
 * DocMDP (§12.8.2.2) and FieldMDP (§12.8.2.4) references when asked.
 */
import { X509Certificate } from 'node:crypto';
import {
  IncrementalUpdate,
  PdfByteRangeHole,
  PdfContentsHole,
  PdfDict,
  PdfDocument,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  name,
  numberValue,
  type PdfValue,
  type SignatureField,
} from '../pdf/index.ts';
import type { SignatureAppearanceSpec } from '../pdf/appearance/index.ts';
import { certificateFields } from '../cms/certificateFields.ts';
import { bytesEqual } from '../cms/der.ts';
import { KEY_USAGE_BITS, certificatePolicies, keyUsage, nameAttributes, nameValueKey } from '../pki/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';
import { PadesError } from './errors.ts';
import { pdfDate } from './pdfDate.ts';

export type SubFilter = 'ETSI.CAdES.detached' | 'adbe.pkcs7.detached' | 'ETSI.RFC3161';
export type DocMdpLevel = 1 | 2 | 3;

export interface FieldLock {
  /** §12.7.4.5 Table 233: which fields become read-only once this field is signed. */
  action: 'All' | 'Include' | 'Exclude';
  fields?: string[];
  /**
   * ISO 32000-2 §12.7.5.5 (Table 236, /P): the document's permissions once this field is signed,
   * as DocMDP P. 1 = no further changes (DSS and document timestamps stay allowed, EN 319 142-1).
   */
  permissions?: DocMdpLevel;
}

export interface SignatureFieldOptions {
  /** Sign this existing empty field, or create a field with this name (default `SignatureN`). */
  fieldName?: string;
  /** 1-based page for the widget; default 1. */
  page?: number;
  /** Visible widget rectangle [llx, lly, urx, ury] in default user space; absent = invisible. */
  rect?: [number, number, number, number];
  /** What the visible widget shows; width/height come from `rect`. */
  appearance?: Omit<SignatureAppearanceSpec, 'width' | 'height'>;
  /** FieldMDP lock written on a new field and referenced from the signature. */
  lock?: FieldLock;
}

export interface SignatureDictionaryOptions {
  subFilter: SubFilter;
  /** Bytes reserved for the DER CMS / timestamp token. */
  reservedBytes: number;
  /** /M; required for signatures (EN 319 142-1 §5.3: the claimed signing time lives here). */
  signingTime?: Date;
  /** Offset of the local time written in /M, minutes east of UTC. */
  utcOffsetMinutes?: number;
  name?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Certification signature with DocMDP permissions P (only as the first signature). */
  certify?: DocMdpLevel;
  /**
   * For an existing field's /TimeStamp seed value: whether a signature-time-stamp will be added.
   * Undefined: not known here (a staged signature whose caller adds what it likes), not checked.
   */
  timestamped?: boolean;
  /** For an existing field's /Cert seed value: the signer's certificate and its issuers (DER, signer first). */
  signerChain?: readonly Uint8Array[];
}

export interface PlacedSignature {
  signatureObject: number;
  fieldName: string;
  pageIndex: number;
}

/** The DocMDP permission of the document's certification signature, if it has one. */
export function docMdpPermission(doc: PdfDocument): DocMdpLevel | undefined {
  const perms = doc.resolveDict(doc.catalog.get('Perms'));
  const sig = doc.resolveDict(perms?.get('DocMDP'));
  if (!sig) return undefined;
  const refs = doc.resolve(sig.get('Reference'));
  if (!Array.isArray(refs)) return 2; // §12.8.2.2: P defaults to 2
  for (const r of refs) {
    const ref = doc.resolveDict(r);
    if (ref?.getName('TransformMethod') !== 'DocMDP') continue;
    const p = numberValue(doc.resolveDict(ref.get('TransformParams'))?.get('P'));
    return p === 1 || p === 3 ? p : 2;
  }
  return 2;
}

function text(value: string): PdfString {
  return PdfString.fromText(value);
}

/** `SignatureN` with the lowest N that no form field of any type already has (§12.7.3.2). */
function uniqueFieldName(taken: ReadonlySet<string>): string {
  for (let i = 1; ; i++) if (!taken.has(`Signature${i}`)) return `Signature${i}`;
}

/**
 * A new field's name is its partial name /T: not empty and without a period, which separates the
 * partial names of a fully qualified one (§12.7.3.2). Nor may it be the name of any other field: fields
 * sharing a fully qualified name are one field, so a signature field named like a text field would
 * merge with it.
 */
function checkNewFieldName(fieldName: string, taken: ReadonlySet<string>): void {
  if (fieldName === '' || fieldName.includes('.')) {
    throw new PadesError('invalid-parameters', `a new signature field needs a name without a period (ISO 32000-1 §12.7.3.2), not "${fieldName}"`, { status: 400 });
  }
  if (taken.has(fieldName)) {
    throw new PadesError('field-name-taken', `the form already has a field "${fieldName}" that is not an empty signature field`, { status: 409 });
  }
}

/** Appends `item` to the array at `holder[key]`, which may be direct, indirect or absent. */
function appendToArray(up: IncrementalUpdate, doc: PdfDocument, holder: PdfDict, key: string, item: PdfValue): void {
  const v = holder.get(key);
  if (v instanceof PdfRef) {
    const arr = doc.resolve(v);
    if (!Array.isArray(arr)) throw new PadesError('pdf-structure-unsupported', `/${key} references a non-array object`);
    up.setObject(v.num, [...arr, item]);
  } else if (Array.isArray(v)) {
    holder.set(key, [...v, item]);
  } else {
    holder.set(key, [item]);
  }
}

function lockDict(lock: FieldLock): PdfDict {
  const d = new PdfDict({ Type: name('SigFieldLock'), Action: name(lock.action) });
  if (lock.action !== 'All') d.set('Fields', (lock.fields ?? []).map(text));
  if (lock.permissions !== undefined) d.set('P', lock.permissions);
  return d;
}

/** The most restrictive /P of the locks of signed fields (PDF 2.0 field-lock permissions). */
function lockedPermission(doc: PdfDocument, signed: readonly SignatureField[]): DocMdpLevel | undefined {
  let min: number | undefined;
  for (const f of signed) {
    const p = numberValue(doc.resolve(f.lock?.get('P')));
    if (p === 1 || p === 2 || p === 3) min = min === undefined ? p : Math.min(min, p);
  }
  return min as DocMdpLevel | undefined;
}

/**
 * The signed field whose FieldMDP lock (§12.7.4.5 Table 233, §12.8.2.4) covers the field `name`, if
 * any: signing a locked field sets its /V, a change the earlier signature forbids.
 */
function lockedBy(doc: PdfDocument, signed: readonly SignatureField[], name: string): SignatureField | undefined {
  return signed.find((f) => {
    if (!f.lock || f.name === name) return false;
    const action = doc.resolve(f.lock.get('Action'));
    const listed = doc.resolve(f.lock.get('Fields'));
    const names = Array.isArray(listed) ? listed.map((x) => doc.resolve(x)).flatMap((x) => (x instanceof PdfString ? [x.toText()] : [])) : [];
    const covers = (n: string) => names.some((l) => n === l || n.startsWith(`${l}.`));
    const actionName = action instanceof PdfName ? action.name : undefined;
    return actionName === 'All' || (actionName === 'Include' && covers(name)) || (actionName === 'Exclude' && !covers(name));
  });
}

/** /Ff bits of a seed value dictionary (§12.7.4.5 Table 234): the entry is a required constraint. */
const SV_FILTER = 1;
const SV_SUBFILTER = 2;
const SV_REASONS = 8;
const SV_ADD_REV_INFO = 32;
const SV_DIGEST_METHOD = 64;
const DIGEST_METHOD_NAMES: Record<DigestAlgorithm, string> = { 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' };
const OUR_SUBFILTERS: readonly string[] = ['ETSI.CAdES.detached', 'adbe.pkcs7.detached'];

/**
 * An existing field's seed values (§12.7.4.5 Table 234) that this signature would break. A required
 * constraint (its /Ff bit set) that cannot be met means "signing shall not take place"; so does an
 * /MDP that asks for another kind of signature, a /TimeStamp that requires one the signature will not
 * get, or a /Cert the signer's certificate does not meet (when the caller says what it will do).
 * Constraints on what this service never writes (legal attestations, named appearances) hold trivially.
 */
function seedValueViolation(
  doc: PdfDocument,
  field: SignatureField,
  sig: SignatureDictionaryOptions,
  digestAlgorithm: DigestAlgorithm | undefined,
): string | undefined {
  const sv = doc.resolveDict(field.dict.get('SV'));
  if (!sv) return undefined;
  const ff = numberValue(doc.resolve(sv.get('Ff'))) ?? 0;
  const names = (key: string): string[] | undefined => {
    const v = doc.resolve(sv.get(key));
    return Array.isArray(v) ? v.map((x) => doc.resolve(x)).flatMap((x) => (x instanceof PdfName ? [x.name] : [])) : undefined;
  };
  const filter = doc.resolve(sv.get('Filter'));
  if (ff & SV_FILTER && filter instanceof PdfName && filter.name !== 'Adobe.PPKLite') return `the signature handler ${filter.name}`;
  const subFilters = names('SubFilter');
  if (ff & SV_SUBFILTER && subFilters) {
    // The first encoding of the list that the handler supports is the one to use.
    const first = subFilters.find((n) => OUR_SUBFILTERS.includes(n));
    if (first !== sig.subFilter) return first ? `/SubFilter ${first}` : `one of the encodings ${subFilters.join(', ')}`;
  }
  const digests = names('DigestMethod');
  if (ff & SV_DIGEST_METHOD && digests && digestAlgorithm && !digests.some((n) => n.toUpperCase() === DIGEST_METHOD_NAMES[digestAlgorithm])) {
    return `a digest among ${digests.join(', ')}`;
  }
  if (ff & SV_REASONS) {
    const listed = doc.resolve(sv.get('Reasons'));
    const reasons = Array.isArray(listed) ? listed.map((x) => doc.resolve(x)).flatMap((x) => (x instanceof PdfString ? [x.toText()] : [])) : [];
    // No list, or only an empty string (or "."): no reason may be given at all.
    const none = reasons.length === 0 || (reasons.length === 1 && (reasons[0] === '' || reasons[0] === '.'));
    if (none ? sig.reason !== undefined : !reasons.includes(sig.reason ?? '')) {
      return none ? 'no /Reason' : `a /Reason among ${reasons.map((r) => `"${r}"`).join(', ')}`;
    }
  }
  // Revocation data inside the CMS (adbe-revocationInfoArchival) is not what PAdES does: it goes in the DSS.
  if (ff & SV_ADD_REV_INFO && doc.resolve(sv.get('AddRevInfo')) === true) return 'revocation information inside the CMS (/AddRevInfo)';
  // /MDP /P: 0 an approval signature, 1–3 a certification signature with that DocMDP P.
  const p = numberValue(doc.resolve(doc.resolveDict(sv.get('MDP'))?.get('P')));
  if (p === 0 && sig.certify !== undefined) return 'an approval signature, not a certification';
  if ((p === 1 || p === 2 || p === 3) && sig.certify !== p) return `a certification signature with DocMDP P=${p}`;
  // /TimeStamp (PDF 1.7): /Ff 1 = the signature must carry a time-stamp.
  const ts = doc.resolveDict(sv.get('TimeStamp'));
  if (ts && numberValue(doc.resolve(ts.get('Ff'))) === 1 && sig.timestamped === false) return 'a signature time-stamp (/TimeStamp): sign at B-T or above';
  const cert = doc.resolveDict(sv.get('Cert'));
  if (cert && sig.signerChain && sig.signerChain.length > 0) return certificateSeedViolation(doc, cert, sig.signerChain);
  return undefined;
}

/** /Ff bits of a certificate seed value dictionary (§12.7.4.5 Table 235): the entry is a required constraint. */
const CERT_SUBJECT = 1;
const CERT_ISSUER = 2;
const CERT_OID = 4;
const CERT_SUBJECT_DN = 8;
const CERT_KEY_USAGE = 32;
/** /SubjectDN keys (§12.7.4.5: attribute names as RFC 4514 and common producers write them, any case) by attribute type OID; dotted OIDs stand for themselves. */
const DN_TYPES: Record<string, string> = {
  CN: '2.5.4.3',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  STREET: '2.5.4.9',
  SERIALNUMBER: '2.5.4.5',
  SN: '2.5.4.4',
  SURNAME: '2.5.4.4',
  GIVENNAME: '2.5.4.42',
  G: '2.5.4.42',
  T: '2.5.4.12',
  TITLE: '2.5.4.12',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  E: '1.2.840.113549.1.9.1',
  EMAIL: '1.2.840.113549.1.9.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
};
const dnType = (key: string): string => (/^[0-2](\.\d+)+$/.test(key) ? key : (DN_TYPES[key.toUpperCase()] ?? `unknown:${key}`));

/**
 * The signer's certificate against a field's /Cert seed value (Table 235), its required entries only
 * (an optional one is a hint to pick a certificate; the key is already chosen): the certificate one of
 * /Subject; an issuer up its chain one of /Issuer; a policy among /OID (only with a non-empty /Issuer,
 * as Table 235 says); the subject DN one of /SubjectDN (each attribute of the entry present, compared as
 * RFC 5280 §7.1 does); its keyUsage one of the /KeyUsage patterns ("1" set, "0" clear, anything else
 * either way, digitalSignature first).
 */
function certificateSeedViolation(doc: PdfDocument, sv: PdfDict, chain: readonly Uint8Array[]): string | undefined {
  const ff = numberValue(doc.resolve(sv.get('Ff'))) ?? 0;
  const list = (key: string): PdfValue[] | undefined => {
    const v = doc.resolve(sv.get(key));
    return Array.isArray(v) ? v.map((x) => doc.resolve(x)) : undefined;
  };
  const byteStrings = (key: string) => list(key)?.flatMap((x) => (x instanceof PdfString ? [x.bytes] : []));
  const signer = new X509Certificate(chain[0]!);
  const subjects = byteStrings('Subject');
  if (ff & CERT_SUBJECT && subjects && !subjects.some((d) => bytesEqual(d, chain[0]!))) return 'one of the signing certificates its /Cert /Subject lists';
  const issuers = byteStrings('Issuer');
  if (ff & CERT_ISSUER && issuers) {
    const ours = chain.slice(1).map((d) => new X509Certificate(d));
    const chained = issuers.some((d) => {
      try {
        const issuer = new X509Certificate(d);
        return ours.some((c) => bytesEqual(c.raw, issuer.raw)) || (signer.checkIssued(issuer) && signer.verify(issuer.publicKey));
      } catch {
        return false; // not a certificate: it names no issuer
      }
    });
    if (!chained) return 'a certificate issued under one of the issuers its /Cert /Issuer lists';
  }
  const oids = byteStrings('OID')?.map((b) => Buffer.from(b).toString('latin1'));
  if (ff & CERT_OID && oids && issuers && issuers.length > 0) {
    let policies: string[];
    try {
      policies = certificatePolicies(signer) ?? [];
    } catch {
      policies = []; // an extension that cannot be read asserts no policy
    }
    if (!oids.some((o) => policies.includes(o))) return `a certificate with one of the policies ${oids.join(', ')} (/Cert /OID)`;
  }
  const dns = list('SubjectDN')?.flatMap((x) => (x instanceof PdfDict ? [x] : []));
  if (ff & CERT_SUBJECT_DN && dns) {
    // The subject's own attributes (not a display string, where "," or "+" would be escaped).
    const subject = nameAttributes(certificateFields(chain[0]!).subject);
    const matches = (dn: PdfDict) =>
      [...dn.entries()].every(([k, v]) => {
        const want = doc.resolve(v);
        return want instanceof PdfString && (subject.get(dnType(k)) ?? []).includes(nameValueKey(want.toText()));
      });
    if (!dns.some(matches)) return 'a certificate whose subject matches one of its /Cert /SubjectDN entries';
  }
  const patterns = list('KeyUsage')?.flatMap((x) => (x instanceof PdfString ? [x.toText()] : []));
  if (ff & CERT_KEY_USAGE && patterns) {
    const bits = keyUsage(signer);
    const fits = (p: string) =>
      KEY_USAGE_BITS.every((name, i) => {
        const c = p[i] ?? 'X';
        // No keyUsage extension: the key is not limited (RFC 5280 §4.2.1.3), every "1" holds, no "0" does.
        const set = bits === undefined ? true : bits.has(name);
        // Table 235: a character other than "0" and "1" is treated as "X".
        return c === '1' ? set : c === '0' ? bits !== undefined && !set : true;
      });
    if (!patterns.some(fits)) return `a certificate whose keyUsage fits one of ${patterns.map((p) => `"${p}"`).join(', ')} (/Cert /KeyUsage)`;
  }
  return undefined;
}

/** ISO 32000-1 §12.8.1 Table 253: a FieldMDP reference, with /Data (required there) naming the catalog analysed. */
function fieldMdpReference(lock: PdfDict, catalogRef: PdfRef): PdfDict {
  const params = new PdfDict({ Type: name('TransformParams'), Action: lock.get('Action') ?? name('All'), V: name('1.2') });
  const fields = lock.get('Fields');
  if (fields !== undefined) params.set('Fields', fields);
  return new PdfDict({ Type: name('SigRef'), TransformMethod: name('FieldMDP'), TransformParams: params, Data: catalogRef });
}

function emptyAppearance(): PdfStream {
  const dict = new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 0, 0], Length: 0 });
  return new PdfStream(dict, new Uint8Array(0));
}

/** `digestAlgorithm`: the signature's, checked against an existing field's seed values. */
export async function placeSignature(
  up: IncrementalUpdate,
  doc: PdfDocument,
  sig: SignatureDictionaryOptions,
  field: SignatureFieldOptions = {},
  digestAlgorithm?: DigestAlgorithm,
): Promise<PlacedSignature> {
  const isTimestamp = sig.subFilter === 'ETSI.RFC3161';
  const existing = doc.signatureFields();
  const signed = existing.filter((f) => f.value !== null);
  const p = docMdpPermission(doc);
  // Document timestamps (and DSS) stay allowed under P=1 (EN 319 142-1 §5.4: LTV data may always be added).
  if (p === 1 && !isTimestamp) {
    throw new PadesError('document-certified-no-changes', 'the document carries a certification signature that permits no changes (DocMDP P=1)', { status: 409 });
  }
  if (lockedPermission(doc, signed) === 1 && !isTimestamp) {
    throw new PadesError('document-locked', 'a signature on this document locked it against further changes (field lock P=1)', { status: 409 });
  }
  if (sig.certify !== undefined) {
    if (isTimestamp) throw new PadesError('invalid-parameters', 'a document timestamp cannot be a certification signature', { status: 400 });
    // §12.8.2.2 / EN 319 142-1 §5.4: at most one certification signature, and it is the first one.
    if (signed.length > 0 || p !== undefined) {
      throw new PadesError('certification-not-first', 'a certification signature must be the first signature of the document', { status: 409 });
    }
  }
  if (!isTimestamp && sig.signingTime === undefined) throw new PadesError('invalid-parameters', 'signingTime is required');

  const pageIndex = (field.page ?? 1) - 1;
  const page = doc.findPage(pageIndex);
  if (!page) {
    throw new PadesError('page-out-of-range', `page ${field.page} does not exist (the document has ${doc.pageCount})`, { status: 400 });
  }

  // The signature dictionary (§12.8.1 Table 252).
  const sigDict = new PdfDict({ Type: name(isTimestamp ? 'DocTimeStamp' : 'Sig'), Filter: name('Adobe.PPKLite'), SubFilter: name(sig.subFilter) });
  sigDict.set('ByteRange', new PdfByteRangeHole());
  sigDict.set('Contents', new PdfContentsHole(sig.reservedBytes));
  if (sig.signingTime) sigDict.set('M', text(pdfDate(sig.signingTime, sig.utcOffsetMinutes)));
  if (sig.name) sigDict.set('Name', text(sig.name));
  if (sig.reason) sigDict.set('Reason', text(sig.reason));
  if (sig.location) sigDict.set('Location', text(sig.location));
  if (sig.contactInfo) sigDict.set('ContactInfo', text(sig.contactInfo));
  sigDict.set('Prop_Build', new PdfDict({ App: new PdfDict({ Name: name('chungthuc') }) }));
  const sigNum = up.allocate();
  const sigRef = new PdfRef(sigNum, 0);
  const references: PdfDict[] = [];
  if (sig.certify !== undefined) {
    references.push(
      new PdfDict({
        Type: name('SigRef'),
        TransformMethod: name('DocMDP'),
        TransformParams: new PdfDict({ Type: name('TransformParams'), P: sig.certify, V: name('1.2') }),
      }),
    );
  }

  const catalogRef = doc.catalogRef;
  if (!catalogRef) throw new PadesError('pdf-structure-unsupported', 'the catalog is not an indirect object');
  const catalog = up.edit(catalogRef.num);
  if (sig.certify !== undefined) catalog.set('Perms', new PdfDict({ DocMDP: sigRef }));

  // The AcroForm (direct in the catalog or indirect); SigFlags 3 = SignaturesExist | AppendOnly (§12.7.2).
  const formVal = catalog.get('AcroForm');
  let form: PdfDict;
  if (formVal instanceof PdfRef) form = up.edit(formVal.num);
  else if (formVal instanceof PdfDict) form = formVal;
  else {
    form = new PdfDict({ Fields: [] });
    catalog.set('AcroForm', up.add(form));
  }
  form.set('SigFlags', 3);

  let fieldName: string;
  let widgetDict: PdfDict;
  let widgetPage = pageIndex;
  const target = field.fieldName === undefined ? undefined : existing.find((f) => f.name === field.fieldName);
  if (target) {
    if (target.value !== null) {
      throw new PadesError('field-already-signed', `the field "${target.name}" is already signed`, { status: 409 });
    }
    const locker = lockedBy(doc, signed, target.name);
    if (locker) {
      throw new PadesError('field-locked', `the field "${target.name}" is locked by the signature in "${locker.name}" (FieldMDP): signing it would invalidate that signature`, { status: 409 });
    }
    const unmet = seedValueViolation(doc, target, sig, digestAlgorithm);
    if (unmet) {
      throw new PadesError('field-seed-value', `the field "${target.name}" requires ${unmet} (its seed values, ISO 32000-1 §12.7.4.5)`, { status: 409 });
    }
    if (!target.ref) throw new PadesError('pdf-structure-unsupported', `the field "${target.name}" is not an indirect object`);
    fieldName = target.name;
    const fieldDict = up.edit(target.ref.num);
    fieldDict.set('V', sigRef);
    const w = target.widgets[0];
    widgetDict = w?.ref ? (w.ref.num === target.ref.num ? fieldDict : up.edit(w.ref.num)) : fieldDict;
    // An existing field keeps its place: moving its widget is a change earlier signatures did not allow
    // (ISO 32000-1 §12.8.2.2: filling a field changes its value and appearance, not its rectangle).
    const placed = rectOf(widgetDict);
    if (field.rect && !(placed && placed.every((v, i) => v === field.rect![i]))) {
      throw new PadesError('field-rect-fixed', `the field "${target.name}" already has its place${placed ? ` [${placed.join(' ')}]` : ''}: sign it without a rectangle, its appearance is drawn there`, { status: 409 });
    }
    widgetPage = w?.pageIndex ?? pageIndex;
    if (target.lock) references.push(fieldMdpReference(target.lock, catalogRef));
  } else {
    const taken = doc.fieldNames();
    if (field.fieldName !== undefined) checkNewFieldName(field.fieldName, taken);
    fieldName = field.fieldName ?? uniqueFieldName(taken);
    if (!page.ref) throw new PadesError('pdf-structure-unsupported', 'the page is not an indirect object');
    // A merged field + widget annotation (§12.7.3.1); F 132 = Print | Locked.
    widgetDict = new PdfDict({
      Type: name('Annot'),
      Subtype: name('Widget'),
      FT: name('Sig'),
      T: text(fieldName),
      V: sigRef,
      F: 132,
      Rect: field.rect ?? [0, 0, 0, 0],
      P: page.ref,
    });
    if (field.lock) {
      const lock = lockDict(field.lock);
      widgetDict.set('Lock', up.add(lock));
      references.push(fieldMdpReference(lock, catalogRef));
    }
    const widgetRef = up.add(widgetDict);
    appendToArray(up, doc, form, 'Fields', widgetRef);
    const pageDict = page.dict.get('Annots') instanceof PdfRef ? page.dict : up.edit(page.ref.num);
    appendToArray(up, doc, pageDict, 'Annots', widgetRef);
  }
  if (references.length > 0) sigDict.set('Reference', references);

  // A new field got `field.rect` when it was made; an existing one keeps its own (checked above).
  const rect = rectOf(widgetDict);
  const width = rect ? Math.abs(rect[2] - rect[0]) : 0;
  const height = rect ? Math.abs(rect[3] - rect[1]) : 0;
  if (field.appearance && width > 0 && height > 0) {
    const { buildSignatureAppearance } = await appearanceModule();
    // On a turned page the box the reader sees is turned too: laid out at its seen size, upright.
    const rotation = doc.findPage(widgetPage)?.rotate ?? 0;
    const sideways = rotation === 90 || rotation === 270;
    const seen = sideways ? { width: height, height: width } : { width, height };
    const ap = await buildSignatureAppearance({ ...field.appearance, ...seen, pageRotation: rotation }, () => up.allocate());
    for (const o of ap.objects) up.setRawObject(o.num, o.body);
    widgetDict.set('AP', new PdfDict({ N: new PdfRef(ap.formXObject, 0) }));
  } else if (!widgetDict.has('AP')) {
    // PDF/A and several validators expect an appearance even for an invisible widget.
    widgetDict.set('AP', new PdfDict({ N: up.add(emptyAppearance()) }));
  }
  up.setObject(sigNum, sigDict);
  return { signatureObject: sigNum, fieldName, pageIndex: widgetPage };
}

/**
 * Loaded on demand, once: the font engine is only needed for visible signatures. The promise is kept
 * because every import() call goes through the module loader again (under tsx, a round trip to its
 * loader thread, ~1–2 ms per signature).
 */
let appearance: Promise<typeof import('../pdf/appearance/index.ts')> | undefined;
function appearanceModule(): Promise<typeof import('../pdf/appearance/index.ts')> {
  if (!appearance) {
    appearance = import('../pdf/appearance/index.ts');
    appearance.catch(() => {
      appearance = undefined; // a failed load is tried again next time
    });
  }
  return appearance;
}

function rectOf(d: PdfDict): [number, number, number, number] | undefined {
  const r = d.get('Rect');
  if (!Array.isArray(r) || r.length !== 4) return undefined;
  const n = r.map((x) => numberValue(x));
  return n.every((x) => x !== undefined) ? (n as [number, number, number, number]) : undefined;
}
