/**
 * Adapters to the shape src/pades/ltv.ts expects of a TimestampSource (`timestamp(imprint, alg)` →
 * DER token, plus the /Contents room a token needs). Typed structurally: tsa sits below pades and
 * must not import it.
 */
import { encodeTimeStampReq, parseTimeStampResp, verifyTimeStampToken } from '../cms/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';
import type { TimeStampAuthority } from './TimeStampAuthority.ts';
import { randomNonce, requestTimestamp, type TsaClientOptions } from './TsaClient.ts';
import { TsaError } from './TsaError.ts';

/** A token, checked against the imprint, with its time and the TSA certificate that signed it. */
export interface IssuedToken {
  token: Uint8Array;
  genTime: Date;
  tsaCertificate: Uint8Array;
  /** Every certificate in the token, to complete the TSA's chain where the configured CAs cannot. */
  certificates?: readonly Uint8Array[];
}

export interface TokenSource {
  timestamp(imprint: Uint8Array, digestAlgorithm: DigestAlgorithm): Promise<IssuedToken>;
  /** Bytes to reserve for one token, certificates included. */
  readonly tokenSizeEstimate: number;
}

/** A remote RFC 3161 TSA over HTTP, every check of requestTimestamp applied. */
export function httpTimestampSource(options: TsaClientOptions, tokenSizeEstimate = 16 * 1024): TokenSource {
  return {
    tokenSizeEstimate,
    async timestamp(imprint, digestAlgorithm) {
      const r = await requestTimestamp({ ...options, digest: imprint, digestAlgorithm });
      return { token: r.token, genTime: r.tstInfo.genTime, tsaCertificate: r.tsaCertificate, certificates: r.certificates };
    },
  };
}

/**
 * The built-in TSA in the same process (no HTTP round trip). The token is still checked like a remote
 * one: a misconfigured TSA must not slip a token into a signature.
 */
export function localTimestampSource(tsa: TimeStampAuthority): TokenSource {
  // Certificates + TSTInfo (~300 B) + signed attributes (~250 B) + a signature of at most 1 KiB (8192-bit RSA).
  const certificates = [tsa.certificate, ...tsa.chain].reduce((sum, c) => sum + c.length, 0);
  return {
    tokenSizeEstimate: certificates + 4096,
    async timestamp(imprint, digestAlgorithm) {
      const nonce = randomNonce();
      const outcome = await tsa.process(
        encodeTimeStampReq({ messageImprint: { hashAlgorithm: digestAlgorithm, hashedMessage: imprint }, nonce, certReq: true }),
      );
      const resp = parseTimeStampResp(outcome.der);
      if (resp.timeStampToken === undefined) {
        const failInfo = resp.status.failInfo;
        const code = failInfo.includes('systemFailure') ? 'tsa-unavailable' : 'tsa-rejected';
        throw new TsaError(code, `the built-in TSA refused: ${resp.status.statusText.join('; ')}`, { details: { failInfo } });
      }
      const v = verifyTimeStampToken(resp.timeStampToken, { messageImprint: { hashAlgorithm: digestAlgorithm, hashedMessage: imprint } });
      if (!v.valid || v.tstInfo.nonce !== nonce || v.tsaCertificate === undefined) {
        throw new TsaError('tsa-misconfigured', `the built-in TSA made an invalid token: ${v.problems.join('; ') || 'nonce or certificate'}`);
      }
      return { token: resp.timeStampToken, genTime: v.tstInfo.genTime, tsaCertificate: v.tsaCertificate };
    },
  };
}
