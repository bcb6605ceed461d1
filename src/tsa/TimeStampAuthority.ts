/**
 * The built-in time-stamping authority (RFC 3161): answers a DER TimeStampReq with a DER TimeStampResp.
 * Client errors become a `rejection` response with a failInfo, never an exception (§2.4.2); internal
 * failures (serial storage, HSM) become `rejection` + systemFailure and are reported to `onError`.
 */
import { X509Certificate } from 'node:crypto';
import {
  checkTimeStampingCertificate,
  digestLength,
  encodeTimeStampResp,
  encodeTstInfo,
  hashAlgorithmOid,
  parseTimeStampReq,
  type Accuracy,
  type HashAlgorithm,
  type PkiFailureInfo,
  type PkiStatus,
  type TimeStampReqInfo,
} from '../cms/index.ts';
import { certificateFields } from '../signers/index.ts';
import type { DigestAlgorithm, SignatureScheme, Signer } from '../signers/Signer.ts';
import type { SerialSource } from './SerialSource.ts';
import { TsaError } from './TsaError.ts';
import { defaultScheme, signTimeStampToken } from './signTimeStampToken.ts';

/** Development policy OID (private-enterprise arc placeholder); set a real one in production. */
export const DEV_TSA_POLICY_OID = '1.3.6.1.4.1.99999.1.1';

export interface TimeStampAuthorityOptions {
  /** The HSM key (label `tsa` in the dev token). */
  readonly signer: Signer;
  /** DER TSA certificate: critical EKU id-kp-timeStamping only (RFC 3161 §2.3), checked here. */
  readonly certificate: Uint8Array;
  /** Issuer certificates (DER), sent with the TSA certificate when certReq is true. */
  readonly chain?: readonly Uint8Array[];
  /** TSAPolicyId used when the request names none. */
  readonly policyOid?: string;
  /** Policies a request may ask for (reqPolicy); defaults to `[policyOid]`. */
  readonly acceptedPolicies?: readonly string[];
  /** Declared accuracy of genTime (§2.4.2). Default one second. */
  readonly accuracy?: Accuracy;
  /** Digest of the token's SignerInfo. */
  readonly digestAlgorithm?: DigestAlgorithm;
  /** Imprint algorithms accepted in requests; others get badAlg. Default SHA-256/384/512. */
  readonly acceptedImprintAlgorithms?: readonly HashAlgorithm[];
  /** Default: PKCS#1 v1.5 for RSA, ECDSA for EC. */
  readonly scheme?: SignatureScheme;
  readonly serials: SerialSource;
  readonly clock?: () => Date;
  /** Put the certificate subject in TSTInfo.tsa (§2.4.2 "tsa ... to help identify the TSA"). Default true. */
  readonly includeTsaName?: boolean;
  /** Add a signing-time signed attribute (equal to genTime). Default false: genTime is the time. */
  readonly signingTime?: boolean;
  /** Called with internal failures (answered with systemFailure); for logging. */
  readonly onError?: (error: unknown) => void;
}

/** What `process` did, for the HTTP edge and logs; `der` is the TimeStampResp. */
export interface TimeStampOutcome {
  readonly der: Uint8Array;
  readonly status: PkiStatus;
  readonly failInfo: PkiFailureInfo | undefined;
  readonly serialNumber: bigint | undefined;
  readonly genTime: Date | undefined;
}

class Rejection {
  constructor(
    readonly failInfo: PkiFailureInfo,
    readonly text: string,
  ) {}
}

export class TimeStampAuthority {
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly policyOid: string;
  private readonly signer: Signer;
  private readonly acceptedPolicies: ReadonlySet<string>;
  private readonly accuracy: Accuracy;
  private readonly digestAlgorithm: DigestAlgorithm;
  private readonly imprintAlgorithms: ReadonlyMap<string, HashAlgorithm>;
  private readonly scheme: SignatureScheme;
  private readonly serials: SerialSource;
  private readonly clock: () => Date;
  private readonly tsaName: Uint8Array | undefined;
  private readonly signingTime: boolean;
  private readonly onError: (error: unknown) => void;
  /** The TSA certificate's validity: no token is issued outside it (RFC 3161 §4, EN 319 421 §7.7). */
  private readonly validFromMs: number;
  private readonly validToMs: number;

  constructor(opts: TimeStampAuthorityOptions) {
    const usage = checkTimeStampingCertificate(opts.certificate);
    if (!usage.ok) throw new TsaError('tsa-misconfigured', `the TSA certificate cannot be used: ${usage.problem ?? ''}`);
    const fields = certificateFields(opts.certificate);
    if (opts.signer.certificate !== undefined) {
      const keyCert = certificateFields(opts.signer.certificate);
      if (Buffer.compare(keyCert.spki, fields.spki) !== 0) {
        throw new TsaError('tsa-misconfigured', `the TSA certificate is not for HSM key "${opts.signer.key.label}"`);
      }
    }
    this.signer = opts.signer;
    this.certificate = opts.certificate;
    const x509 = new X509Certificate(opts.certificate);
    this.validFromMs = new Date(x509.validFrom).getTime();
    this.validToMs = new Date(x509.validTo).getTime();
    this.chain = opts.chain ?? [];
    this.policyOid = opts.policyOid ?? DEV_TSA_POLICY_OID;
    this.acceptedPolicies = new Set(opts.acceptedPolicies ?? [this.policyOid]);
    this.accuracy = opts.accuracy ?? { seconds: 1 };
    this.digestAlgorithm = opts.digestAlgorithm ?? 'SHA-256';
    const algs = opts.acceptedImprintAlgorithms ?? ['SHA-256', 'SHA-384', 'SHA-512'];
    this.imprintAlgorithms = new Map(algs.map((alg) => [hashAlgorithmOid(alg), alg]));
    this.scheme = opts.scheme ?? defaultScheme(opts.signer);
    this.serials = opts.serials;
    this.clock = opts.clock ?? (() => new Date());
    this.tsaName = opts.includeTsaName === false ? undefined : fields.subject;
    this.signingTime = opts.signingTime ?? false;
    this.onError = opts.onError ?? (() => {});
  }

  /** RFC 3161 §2.4: TimeStampReq DER in, TimeStampResp DER out. */
  async respond(requestDer: Uint8Array): Promise<Uint8Array> {
    return (await this.process(requestDer)).der;
  }

  async process(requestDer: Uint8Array): Promise<TimeStampOutcome> {
    let request: TimeStampReqInfo;
    let policy: string;
    try {
      request = this.parse(requestDer);
      policy = this.policyFor(request);
    } catch (error) {
      if (error instanceof Rejection) return this.reject(error.failInfo, error.text);
      throw error;
    }
    let serialNumber: bigint;
    let genTime: Date;
    let token: Uint8Array;
    try {
      genTime = this.clock();
      if (genTime.getTime() < this.validFromMs || genTime.getTime() > this.validToMs) {
        throw new TsaError('tsa-certificate-not-valid', `the TSA certificate is not valid at ${genTime.toISOString()}`);
      }
      serialNumber = this.serials.next();
      const tstInfo = encodeTstInfo({
        policy,
        messageImprint: request.messageImprintDer,
        serialNumber,
        genTime,
        accuracy: this.accuracy,
        ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
        ...(this.tsaName === undefined ? {} : { tsaName: this.tsaName }),
      });
      token = await signTimeStampToken({
        signer: this.signer,
        certificate: this.certificate,
        chain: this.chain,
        tstInfo,
        digestAlgorithm: this.digestAlgorithm,
        scheme: this.scheme,
        includeCertificates: request.certReq,
        ...(this.signingTime ? { signingTime: genTime } : {}),
      });
    } catch (error) {
      this.onError(error);
      return this.reject('systemFailure', 'the time-stamping service cannot issue a token now');
    }
    return {
      der: encodeTimeStampResp({ status: 'granted', timeStampToken: token }),
      status: 'granted',
      failInfo: undefined,
      serialNumber,
      genTime,
    };
  }

  private parse(der: Uint8Array): TimeStampReqInfo {
    let request: TimeStampReqInfo;
    try {
      request = parseTimeStampReq(der);
    } catch {
      throw new Rejection('badDataFormat', 'the request is not a DER TimeStampReq');
    }
    if (request.version !== 1) throw new Rejection('badDataFormat', `unsupported TimeStampReq version ${request.version}`);
    const imprint = request.messageImprint;
    const alg = this.imprintAlgorithms.get(imprint.hashAlgorithmOid);
    if (alg === undefined || imprint.hasParameters) {
      throw new Rejection('badAlg', `hash algorithm ${imprint.hashAlgorithmOid} is not accepted`);
    }
    // §2.4.1: the hashedMessage length must be that of the named hash.
    if (imprint.hashedMessage.length !== digestLength(alg)) {
      throw new Rejection('badDataFormat', `hashedMessage has ${imprint.hashedMessage.length} bytes for ${alg}`);
    }
    // §2.4.1: no extension is supported; refusing is the only safe answer for a critical one and
    // RFC 3161 lists unacceptedExtension for exactly this.
    if (request.extensions.length > 0) {
      throw new Rejection('unacceptedExtension', `extensions are not supported (${request.extensions.map((e) => e.oid).join(', ')})`);
    }
    if (request.nonce !== undefined && request.nonce < 0n) throw new Rejection('badDataFormat', 'negative nonce');
    return request;
  }

  /** §2.4.2: with reqPolicy the token carries that policy, or the TSA rejects the request. */
  private policyFor(request: TimeStampReqInfo): string {
    if (request.reqPolicy === undefined) return this.policyOid;
    if (!this.acceptedPolicies.has(request.reqPolicy)) {
      throw new Rejection('unacceptedPolicy', `policy ${request.reqPolicy} is not offered`);
    }
    return request.reqPolicy;
  }

  private reject(failInfo: PkiFailureInfo, text: string): TimeStampOutcome {
    return {
      der: encodeTimeStampResp({ status: 'rejection', statusText: [text], failInfo: [failInfo] }),
      status: 'rejection',
      failInfo,
      serialNumber: undefined,
      genTime: undefined,
    };
  }
}
