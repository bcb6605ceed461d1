/**
 * Minimal reading of an RFC 3161 TSTInfo (§2.4.2): the messageImprint and genTime, which the validator
 * needs for document timestamps and proofs of existence. Full token validation (TSA certificate,
 * ESS binding, policy) belongs to src/cms/tsp.ts behind the TimestampVerifier port; this stays one
 * small function so it can later delegate there.
 */
import * as asn1js from 'asn1js';
import { hashAlgorithmFromOid, type HashAlgorithm } from '../../cms/index.ts';

export interface TstInfoSummary {
  imprintAlgorithm: HashAlgorithm | undefined;
  imprintAlgorithmOid: string;
  imprint: Uint8Array;
  genTime: Date;
}

/** Parses DER TSTInfo; returns a string describing the problem when it is not one. */
export function readTstInfo(der: Uint8Array): TstInfoSummary | string {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return 'TSTInfo is not a DER SEQUENCE';
  const f = parsed.result.valueBlock.value;
  // version, policy, messageImprint, serialNumber, genTime, …
  const mi = f[2];
  const gt = f[4];
  if (!(mi instanceof asn1js.Sequence) || !(gt instanceof asn1js.GeneralizedTime)) return 'TSTInfo lacks messageImprint or genTime';
  const [alg, hashed] = mi.valueBlock.value;
  if (!(alg instanceof asn1js.Sequence) || !(hashed instanceof asn1js.OctetString)) return 'malformed messageImprint';
  const algOid = alg.valueBlock.value[0];
  if (!(algOid instanceof asn1js.ObjectIdentifier)) return 'malformed messageImprint algorithm';
  const oid = algOid.valueBlock.toString();
  return {
    imprintAlgorithmOid: oid,
    imprintAlgorithm: hashAlgorithmFromOid(oid),
    imprint: new Uint8Array(hashed.valueBlock.valueHexView),
    genTime: gt.toDate(),
  };
}
