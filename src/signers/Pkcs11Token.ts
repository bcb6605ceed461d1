/**
 * An open PKCS#11 token: a logged-in pool of sessions on the slot whose token carries a given label,
 * plus the key-management calls the dev PKI and the service need.
 */
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { KeyInfo, NamedCurve, Signer } from './Signer.ts';
import { HsmError, isPkcs11Error, toHsmError } from './errors.ts';
import {
  CURVE_BITS,
  CURVE_PARAMS,
  certificateFields,
  curveFromParams,
  ecPointFromAttribute,
  ecSpki,
  rsaSpki,
} from './keyEncoding.ts';
import { type LoadedModule, acquireModule, pinHash, releaseModule, samePin } from './Pkcs11Module.ts';
import { Pkcs11Signer, type SessionRunner } from './Pkcs11Signer.ts';
import { SessionPool } from './SessionPool.ts';

export interface TokenLogger {
  warn(obj: object, msg: string): void;
}

export interface OpenTokenOptions {
  /** Path of the PKCS#11 shared library. */
  module: string;
  /** CKA token label (CK_TOKEN_INFO.label, blank padding ignored). */
  tokenLabel: string;
  /** User PIN; used for C_Login only and never logged or copied into an error. */
  pin: string;
  /** Number of sessions, i.e. of concurrent operations. */
  poolSize: number;
  logger?: TokenLogger;
}

export type KeyPairSpec = { label: string; id?: string } & (
  | { type: 'RSA'; bits: 2048 | 3072 | 4096 }
  | { type: 'EC'; curve: 'P-256' | 'P-384' }
);

type Handle = Buffer;
const { CKA_CLASS, CKA_LABEL, CKA_ID, CKA_TOKEN, CKA_KEY_TYPE } = pkcs11js;

/** CK_ULONG attribute values come back in native byte order; every supported platform is little-endian. */
function ulong(b: Buffer): number {
  return b.length >= 4 ? b.readUInt32LE(0) : b.readUIntLE(0, b.length);
}

function idBytes(hex: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    throw new HsmError('hsm-key-unsupported', `CKA_ID must be an even number of hex digits, got "${hex}"`);
  }
  return Buffer.from(hex, 'hex');
}

/** Replace any occurrence of the secret in an error's text (belt and braces: pkcs11js never echoes arguments). */
function scrub(err: HsmError, secret: string): HsmError {
  if (secret.length === 0 || !err.message.includes(secret)) return err;
  return new HsmError(err.code, err.message.split(secret).join('[redacted]'), { details: err.details });
}

export class Pkcs11Token implements SessionRunner {
  private closing: Promise<void> | undefined;

  /** @internal use {@link openToken} */
  constructor(
    private readonly mod: LoadedModule,
    private readonly slot: Handle,
    private readonly slotKey: string,
    readonly tokenLabel: string,
    private readonly pool: SessionPool<Handle>,
    private readonly logger: TokenLogger | undefined,
  ) {}

  get lib(): pkcs11js.PKCS11 {
    return this.mod.lib;
  }

  withSession<T>(fn: (session: Handle) => Promise<T> | T): Promise<T> {
    if (this.closing) return Promise.reject(new HsmError('hsm-closed', `token "${this.tokenLabel}" has been closed`));
    return this.pool.use(fn);
  }

  /** Run synchronous PKCS#11 calls on one session, mapping failures to HsmError. */
  private run<T>(context: string, fn: (session: Handle) => Promise<T> | T): Promise<T> {
    return this.withSession(async (s) => {
      try {
        return await fn(s);
      } catch (e) {
        throw toHsmError(e, context);
      }
    });
  }

  private find(session: Handle, template: pkcs11js.Template, max = 64): Handle[] {
    const { lib } = this;
    lib.C_FindObjectsInit(session, template);
    try {
      return lib.C_FindObjects(session, max);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  }

  private attrs(session: Handle, obj: Handle, types: number[]): Map<number, Buffer> {
    const res = this.lib.C_GetAttributeValue(session, obj, types.map((type) => ({ type })));
    return new Map(res.map((a) => [a.type, a.value]));
  }

  /** Key facts from a private key object; the modulus and EC params are public attributes even on a sensitive key. */
  private keyInfo(session: Handle, priv: Handle): KeyInfo {
    const base = this.attrs(session, priv, [CKA_LABEL, CKA_ID, CKA_KEY_TYPE]);
    const label = (base.get(CKA_LABEL) ?? Buffer.alloc(0)).toString('utf8');
    const id = (base.get(CKA_ID) ?? Buffer.alloc(0)).toString('hex');
    const type = ulong(base.get(CKA_KEY_TYPE) ?? Buffer.alloc(4));
    if (type === pkcs11js.CKK_RSA) {
      const modulus = this.attrs(session, priv, [pkcs11js.CKA_MODULUS]).get(pkcs11js.CKA_MODULUS) ?? Buffer.alloc(0);
      let i = 0;
      while (i < modulus.length && modulus[i] === 0) i++;
      const bits = (modulus.length - i) * 8 - Math.clz32(modulus[i] ?? 0) + 24;
      return { label, id, keyType: 'RSA', bits };
    }
    if (type === pkcs11js.CKK_EC) {
      const params = this.attrs(session, priv, [pkcs11js.CKA_EC_PARAMS]).get(pkcs11js.CKA_EC_PARAMS) ?? Buffer.alloc(0);
      const curve = curveFromParams(params);
      if (!curve) {
        throw new HsmError('hsm-key-unsupported', `key "${label}" is on an unsupported curve`, {
          details: { label, ecParams: params.toString('hex') },
        });
      }
      return { label, id, keyType: 'EC', bits: CURVE_BITS[curve], namedCurve: curve };
    }
    throw new HsmError('hsm-key-unsupported', `key "${label}" has unsupported CKA_KEY_TYPE ${type}`, { details: { label, keyType: type } });
  }

  private findPrivateKey(session: Handle, label: string): Handle {
    const found = this.find(session, [
      { type: CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: CKA_LABEL, value: label },
    ]);
    const first = found[0];
    if (first === undefined) {
      throw new HsmError('hsm-key-not-found', `no private key labelled "${label}" in token "${this.tokenLabel}"`, {
        details: { label, tokenLabel: this.tokenLabel },
      });
    }
    if (found.length > 1) this.logger?.warn({ label, count: found.length }, 'several private keys share a label; using the first');
    return first;
  }

  private certificateById(session: Handle, id: string): Uint8Array | undefined {
    const certs = this.find(session, [
      { type: CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
      { type: CKA_ID, value: idBytes(id) },
    ]);
    const first = certs[0];
    if (first === undefined) return undefined;
    const value = this.attrs(session, first, [pkcs11js.CKA_VALUE]).get(pkcs11js.CKA_VALUE);
    return value ? new Uint8Array(value) : undefined;
  }

  private spkiOf(session: Handle, label: string): Uint8Array {
    const priv = this.findPrivateKey(session, label);
    const info = this.keyInfo(session, priv);
    const pubs = this.find(session, [
      { type: CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      ...(info.id ? [{ type: CKA_ID, value: idBytes(info.id) }] : [{ type: CKA_LABEL, value: label }]),
    ]);
    const pub = pubs[0];
    if (pub !== undefined) {
      if (info.keyType === 'RSA') {
        const a = this.attrs(session, pub, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT]);
        return rsaSpki(a.get(pkcs11js.CKA_MODULUS) ?? Buffer.alloc(0), a.get(pkcs11js.CKA_PUBLIC_EXPONENT) ?? Buffer.alloc(0));
      }
      const curve = info.namedCurve as NamedCurve;
      const point = this.attrs(session, pub, [pkcs11js.CKA_EC_POINT]).get(pkcs11js.CKA_EC_POINT) ?? Buffer.alloc(0);
      return ecSpki(ecPointFromAttribute(point, curve), curve);
    }
    // No public key object: the certificate next to the key carries the same SubjectPublicKeyInfo.
    const cert = info.id ? this.certificateById(session, info.id) : undefined;
    if (cert) return certificateFields(cert).spki;
    if (info.keyType === 'RSA') {
      const a = this.attrs(session, priv, [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT]);
      return rsaSpki(a.get(pkcs11js.CKA_MODULUS) ?? Buffer.alloc(0), a.get(pkcs11js.CKA_PUBLIC_EXPONENT) ?? Buffer.alloc(0));
    }
    throw new HsmError('hsm-key-not-found', `no public key or certificate for "${label}"`, { details: { label } });
  }

  async getSigner(label: string): Promise<Signer> {
    return this.run(`looking up key "${label}"`, (s) => {
      const priv = this.findPrivateKey(s, label);
      const info = this.keyInfo(s, priv);
      const cert = info.id ? this.certificateById(s, info.id) : undefined;
      return new Pkcs11Signer(this, priv, info, cert);
    });
  }

  async listKeys(): Promise<KeyInfo[]> {
    return this.run('listing keys', (s) => {
      const keys: KeyInfo[] = [];
      for (const h of this.find(s, [{ type: CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }], 1024)) {
        try {
          keys.push(this.keyInfo(s, h));
        } catch (e) {
          // A key of a type we cannot use (DSA, Ed25519…) is not an error for a listing.
          if (!(e instanceof HsmError && e.code === 'hsm-key-unsupported')) throw e;
        }
      }
      return keys;
    });
  }

  async getPublicKeySpki(label: string): Promise<Uint8Array> {
    return this.run(`reading public key "${label}"`, (s) => this.spkiOf(s, label));
  }

  /**
   * Generate a key pair inside the token (PKCS#11 v2.40 §2.1.4 / §2.3.6). The private key is a token
   * object, CKA_SENSITIVE and not CKA_EXTRACTABLE, usable for CKA_SIGN only.
   */
  async generateKeyPair(spec: KeyPairSpec): Promise<{ key: KeyInfo; spki: Uint8Array }> {
    const id = idBytes(spec.id ?? randomBytes(8).toString('hex'));
    return this.run(`generating key "${spec.label}"`, async (s) => {
      const existing = this.find(s, [
        { type: CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: CKA_LABEL, value: spec.label },
      ]);
      if (existing.length > 0) {
        throw new HsmError('hsm-key-exists', `a private key labelled "${spec.label}" already exists`, { status: 409, details: { label: spec.label } });
      }
      const common = [
        { type: CKA_TOKEN, value: true },
        { type: CKA_LABEL, value: spec.label },
        { type: CKA_ID, value: id },
      ];
      const pub: pkcs11js.Template = [
        ...common,
        { type: CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        { type: pkcs11js.CKA_WRAP, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: false },
      ];
      const priv: pkcs11js.Template = [
        ...common,
        { type: CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
      ];
      let mechanism: pkcs11js.Mechanism;
      if (spec.type === 'RSA') {
        mechanism = { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN };
        pub.push({ type: pkcs11js.CKA_MODULUS_BITS, value: spec.bits }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
      } else {
        mechanism = { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN };
        pub.push({ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(CURVE_PARAMS[spec.curve]) });
      }
      await this.lib.C_GenerateKeyPairAsync(s, mechanism, pub, priv);
      return { key: this.keyInfo(s, this.findPrivateKey(s, spec.label)), spki: this.spkiOf(s, spec.label) };
    });
  }

  /**
   * Store an X.509 certificate as a CKO_CERTIFICATE/CKC_X_509 token object next to its key (same CKA_ID,
   * PKCS#11 v2.40 §4.6.3), replacing any certificate already stored with that CKA_ID.
   */
  async importCertificate(label: string, id: string, der: Uint8Array): Promise<void> {
    const fields = certificateFields(der);
    const idBuf = idBytes(id);
    await this.run(`importing certificate "${label}"`, (s) => {
      for (const old of this.find(s, [{ type: CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: CKA_ID, value: idBuf }], 1024)) {
        this.lib.C_DestroyObject(s, old);
      }
      this.lib.C_CreateObject(s, [
        { type: CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
        { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
        { type: CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: CKA_LABEL, value: label },
        { type: CKA_ID, value: idBuf },
        { type: pkcs11js.CKA_SUBJECT, value: Buffer.from(fields.subject) },
        { type: pkcs11js.CKA_ISSUER, value: Buffer.from(fields.issuer) },
        { type: pkcs11js.CKA_SERIAL_NUMBER, value: Buffer.from(fields.serialNumber) },
        { type: pkcs11js.CKA_VALUE, value: Buffer.from(der) },
      ]);
    });
  }

  /**
   * Destroy the private key labelled `label` and the public key and certificates sharing its CKA_ID.
   * For key rotation and test clean-up; the private key itself never leaves the token.
   */
  async destroyKey(label: string): Promise<void> {
    await this.run(`destroying key "${label}"`, (s) => {
      const priv = this.findPrivateKey(s, label);
      const { id } = this.keyInfo(s, priv);
      const related = id
        ? [pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKO_CERTIFICATE].flatMap((cls) => this.find(s, [{ type: CKA_CLASS, value: cls }, { type: CKA_ID, value: idBytes(id) }], 1024))
        : [];
      this.lib.C_DestroyObject(s, priv);
      for (const h of related) this.lib.C_DestroyObject(s, h);
    });
  }

  /** Liveness for /readyz: the token is still in its slot and still carries the label. Uses no session. */
  async ping(): Promise<void> {
    if (this.closing) throw new HsmError('hsm-closed', `token "${this.tokenLabel}" has been closed`);
    let info: pkcs11js.TokenInfo;
    try {
      info = this.lib.C_GetTokenInfo(this.slot);
    } catch (e) {
      throw toHsmError(e, `token "${this.tokenLabel}" info`);
    }
    if (info.label.trim() !== this.tokenLabel) {
      throw new HsmError('hsm-token-absent', `the slot no longer holds token "${this.tokenLabel}"`, { details: { tokenLabel: this.tokenLabel } });
    }
    if (info.flags & pkcs11js.CKF_USER_PIN_LOCKED) {
      throw new HsmError('hsm-pin-locked', `the user PIN of token "${this.tokenLabel}" is locked`, { details: { tokenLabel: this.tokenLabel } });
    }
  }

  /** Wait for admitted operations, log out (if no other handle in this process uses the slot), close sessions. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.pool.drain();
    const { lib } = this;
    const record = this.mod.logins.get(this.slotKey);
    const last = record === undefined || record.count <= 1;
    if (record) record.count--;
    if (last) this.mod.logins.delete(this.slotKey);
    try {
      if (last && this.pool.all[0] !== undefined) {
        try {
          lib.C_Logout(this.pool.all[0]);
        } catch (e) {
          if (!(isPkcs11Error(e) && e.code === pkcs11js.CKR_USER_NOT_LOGGED_IN)) this.logger?.warn({ err: toHsmError(e, 'C_Logout').message }, 'HSM logout failed');
        }
      }
      for (const s of this.pool.all) {
        try {
          lib.C_CloseSession(s);
        } catch (e) {
          this.logger?.warn({ err: toHsmError(e, 'C_CloseSession').message }, 'HSM session close failed');
        }
      }
    } finally {
      releaseModule(this.mod);
    }
  }
}

function findSlot(mod: LoadedModule, tokenLabel: string): Handle {
  let slots: Handle[];
  try {
    slots = mod.lib.C_GetSlotList(true);
  } catch (e) {
    throw toHsmError(e, 'listing slots');
  }
  const seen: string[] = [];
  for (const slot of slots) {
    try {
      const label = mod.lib.C_GetTokenInfo(slot).label.trim();
      if (label === tokenLabel) return slot;
      seen.push(label);
    } catch {
      // A slot whose token vanished between the two calls is simply not a match.
    }
  }
  throw new HsmError('hsm-token-absent', `no token labelled "${tokenLabel}" in ${mod.path}`, {
    details: { tokenLabel, module: mod.path, tokensPresent: seen },
  });
}

/** Load the module, find the token by label, open `poolSize` R/W sessions and log in once as CKU_USER. */
export async function openToken(opts: OpenTokenOptions): Promise<Pkcs11Token> {
  if (!Number.isInteger(opts.poolSize) || opts.poolSize < 1) {
    throw new HsmError('hsm-failure', `poolSize must be a positive integer, got ${opts.poolSize}`);
  }
  const mod = acquireModule(opts.module);
  const sessions: Handle[] = [];
  let counted = false;
  const slotKeyOf = (slot: Handle): string => slot.toString('hex');
  try {
    const slot = findSlot(mod, opts.tokenLabel);
    const slotKey = slotKeyOf(slot);
    for (let i = 0; i < opts.poolSize; i++) {
      try {
        sessions.push(mod.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      } catch (e) {
        throw toHsmError(e, `opening session ${i + 1} of ${opts.poolSize} on token "${opts.tokenLabel}"`);
      }
    }
    const hash = pinHash(opts.pin);
    const record = mod.logins.get(slotKey);
    if (record) {
      // Already logged in by another handle of this process (login state is per application): the token
      // will not check the PIN again, so compare with the one that logged in.
      if (!samePin(record.pinHash, hash)) {
        throw new HsmError('hsm-pin-incorrect', `token "${opts.tokenLabel}": the PIN differs from the one already logged in`, {
          details: { tokenLabel: opts.tokenLabel },
        });
      }
      record.count++;
    } else {
      try {
        mod.lib.C_Login(sessions[0] as Handle, pkcs11js.CKU_USER, opts.pin);
      } catch (e) {
        if (!(isPkcs11Error(e) && e.code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) {
          throw scrub(toHsmError(e, `logging in to token "${opts.tokenLabel}"`), opts.pin);
        }
      }
      mod.logins.set(slotKey, { count: 1, pinHash: hash });
    }
    counted = true;
    return new Pkcs11Token(mod, slot, slotKey, opts.tokenLabel, new SessionPool(sessions), opts.logger);
  } catch (e) {
    for (const s of sessions) {
      try {
        mod.lib.C_CloseSession(s);
      } catch {
        // Cleanup after a failed open; the original error is what matters.
      }
    }
    if (!counted) releaseModule(mod);
    throw e instanceof HsmError ? e : toHsmError(e, `opening token "${opts.tokenLabel}"`);
  }
}
