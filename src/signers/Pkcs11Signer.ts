/**
 * The Signer port over a PKCS#11 private key. The digest is computed by the caller; the token only
 * applies the raw signature primitive (CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_ECDSA), so one key object
 * serves every hash algorithm.
 */
import pkcs11js from 'pkcs11js';
import type { DigestAlgorithm, KeyInfo, SignatureScheme, Signer } from './Signer.ts';
import { checkDigest, digestInfo, pssParams } from './digests.ts';
import { ecdsaRawToDer } from './ecdsaSignature.ts';
import { HsmError, toHsmError } from './errors.ts';
import { CURVE_FIELD_BYTES } from './keyEncoding.ts';

/**
 * What a Pkcs11Signer needs from its token: a session for one operation at a time, with the current
 * handle of its key. The token looks the handle up (by CKA_LABEL and CKA_ID) and, when the sessions or
 * the login were lost, reopens them, looks the key up again and runs the operation once more.
 */
export interface SessionRunner {
  readonly lib: pkcs11js.PKCS11;
  withKey<T>(key: Pick<KeyInfo, 'label' | 'id'>, context: string, fn: (session: Buffer, handle: Buffer) => Promise<T> | T): Promise<T>;
}

export class Pkcs11Signer implements Signer {
  constructor(
    private readonly runner: SessionRunner,
    readonly key: KeyInfo,
    readonly certificate: Uint8Array | undefined,
  ) {}

  async sign(digest: Uint8Array, digestAlgorithm: DigestAlgorithm, scheme: SignatureScheme): Promise<Uint8Array> {
    checkDigest(digest, digestAlgorithm);
    const { mechanism, data, outLength } = this.prepare(digest, digestAlgorithm, scheme);
    const context = `signing with key "${this.key.label}"`;
    const raw = await this.runner.withKey(this.key, context, async (session, handle) => {
      try {
        this.runner.lib.C_SignInit(session, mechanism, handle);
        return await this.runner.lib.C_SignAsync(session, Buffer.from(data), Buffer.alloc(outLength));
      } catch (e) {
        throw toHsmError(e, context);
      }
    });
    const sig = new Uint8Array(raw);
    return scheme === 'ECDSA' ? ecdsaRawToDer(sig) : sig;
  }

  private prepare(
    digest: Uint8Array,
    alg: DigestAlgorithm,
    scheme: SignatureScheme,
  ): { mechanism: pkcs11js.Mechanism; data: Uint8Array; outLength: number } {
    const { key } = this;
    if (key.keyType === 'RSA' && scheme === 'RSASSA-PKCS1-v1_5') {
      // RFC 8017 §9.2 EMSA-PKCS1-v1_5: the token pads, we supply T = DigestInfo.
      return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS }, data: digestInfo(digest, alg), outLength: Math.ceil(key.bits / 8) };
    }
    if (key.keyType === 'RSA' && scheme === 'RSASSA-PSS') {
      // RFC 8017 §9.1 EMSA-PSS over the pre-computed hash; sLen = hLen as in RFC 4055 §3.1 defaults
      // for the named hash and the ETSI TS 119 312 profile.
      return {
        mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, ...pssParams(alg) } },
        data: digest,
        outLength: Math.ceil(key.bits / 8),
      };
    }
    if (key.keyType === 'EC' && scheme === 'ECDSA' && key.namedCurve) {
      return { mechanism: { mechanism: pkcs11js.CKM_ECDSA }, data: digest, outLength: 2 * CURVE_FIELD_BYTES[key.namedCurve] };
    }
    throw new HsmError('hsm-key-unsupported', `key "${key.label}" (${key.keyType}) cannot sign with ${scheme}`, {
      details: { label: key.label, keyType: key.keyType, scheme },
    });
  }
}
