/**
 * The validation report: plain JSON-serialisable data (dates as ISO strings), shaped in the spirit of
 * ETSI TS 119 102-2 (one result per signature with indication, sub-indication and the checks behind
 * it) plus the change analysis of every incremental update (per revision, per object).
 */

/** ETSI EN 319 102-1 §5.1.3 main status indications. */
export type Indication = 'TOTAL-PASSED' | 'INDETERMINATE' | 'TOTAL-FAILED';

/** ETSI EN 319 102-1 §5.1.3 Table 5 sub-indications used by this validator. */
export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'REVOKED'
  | 'REVOKED_NO_POE'
  | 'REVOKED_CA_NO_POE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'OUT_OF_BOUNDS_NOT_REVOKED'
  | 'REVOCATION_OUT_OF_BOUNDS_NO_POE'
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'TRY_LATER'
  | 'SIGNED_DATA_NOT_FOUND';

export type CheckStatus = 'passed' | 'failed' | 'warning' | 'not-checked';

export interface CheckResult {
  name: CheckName;
  status: CheckStatus;
  detail?: string;
  /** What a failure of this check means for the signature (set on `failed` only). */
  indication?: Exclude<Indication, 'TOTAL-PASSED'>;
  subIndication?: SubIndication;
}

export type CheckName =
  | 'byte-range'
  | 'contents'
  | 'signed-revision'
  | 'signature-dictionary'
  | 'cms-structure'
  | 'message-digest'
  | 'signature-value'
  | 'timestamp-imprint'
  | 'signing-certificate'
  | 'crypto-constraints'
  | 'certificate-chain'
  | 'key-usage'
  | 'certificate-policy'
  | 'certificate-validity'
  | 'revocation'
  | 'signature-timestamp'
  | 'modifications';

export type SignatureType = 'signature' | 'document-timestamp';

export interface SignatureReport {
  /** Stable within a report: `sig-<n>` in ByteRange order. */
  id: string;
  fieldName: string;
  type: SignatureType;
  subFilter: string | null;
  /** RFC 4514-ish subject of the signer (or TSA) certificate, when known. */
  signerSubject: string | null;
  signerIssuer: string | null;
  /** /M of the signature dictionary: only a claim (ISO 32000-1 §12.8.1 Table 252). */
  claimedSigningTime: string | null;
  /** Time proven by the best proof of existence (EN 319 102-1 §5.6.2.1), else the validation time. */
  bestSignatureTime: string;
  /** True when bestSignatureTime comes from a verified timestamp (POE), false when it is "now". */
  bestSignatureTimeFromPoe: boolean;
  /** Time-stamp genTime (document timestamps), or the signature timestamp's when verified. */
  timestampTime: string | null;
  byteRange: number[] | null;
  /** Index of the revision the signature covers (0 = original file), null when none matches. */
  signedRevision: number | null;
  /** The signed ranges end at the end of the file. */
  coversWholeDocument: boolean;
  /** DocMDP P value when this is a certification signature (ISO 32000-1 §12.8.2.2). */
  certificationLevel: 1 | 2 | 3 | null;
  indication: Indication;
  subIndication: SubIndication | null;
  checks: CheckResult[];
}

export type ChangeKind =
  | 'unchanged-rewrite'
  | 'dss'
  | 'signature'
  | 'document-timestamp'
  | 'form-fill'
  | 'annotation'
  | 'metadata'
  | 'catalog'
  | 'acroform'
  | 'page'
  | 'page-tree'
  | 'unreferenced'
  | 'structure'
  | 'trailing-bytes'
  /** The analysis stopped at the validation time limit: the update is not known to be allowed. */
  | 'time-limit'
  | 'other';

/**
 * A permitted change a reader should still be told about: `overlay-after-certification`, a signature
 * or document-timestamp field added after the certification that draws on the page (sneaky signature).
 */
export type ChangeFlag = 'overlay-after-certification';

export interface ChangeReport {
  /** `12 0 R`, or a description for changes that are not one object (trailing bytes). */
  object: string;
  kind: ChangeKind;
  allowed: boolean;
  reason: string;
  /** Set on a permitted change that the signature's `modifications` check reports as a warning. */
  flag?: ChangeFlag;
}

export interface RevisionReport {
  index: number;
  /** Byte after this revision's %%EOF (and its EOL). */
  endOffset: number;
  /** Ids of signatures whose signed revision this is. */
  signedBy: string[];
  /** True when the revision was analysed (it follows at least one signed revision). */
  analysed: boolean;
  changes: ChangeReport[];
  verdict: 'allowed' | 'not-allowed' | 'not-analysed';
}

export interface DocumentError {
  code: string;
  message: string;
}

export interface ValidationReport {
  /** File name or '(bytes)'. */
  source: string;
  validationTime: string;
  policyName: string;
  /** TOTAL-PASSED only if every signature is TOTAL-PASSED and no revision has a disallowed change. */
  documentIndication: Indication | 'NO_SIGNATURE';
  /** Set when the file could not be read as a PDF at all (then signatures is empty). */
  document: { error?: DocumentError; revisions: number; size: number };
  signatures: SignatureReport[];
  revisions: RevisionReport[];
  /** Non-fatal problems met while validating (e.g. a revision that could not be opened). */
  errors: DocumentError[];
}
