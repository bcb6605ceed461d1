/**
 * An open PKCS#11 token: a logged-in pool of sessions on the slot whose token carries a given label,
 * plus the key-management calls the dev PKI and the service need.
 */
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { KeyInfo, NamedCurve, Signer } from './Signer.ts';
import { HsmError, isPkcs11Error, isRecoverable, markRecoverable, toHsmError } from './errors.ts';
import {
  CURVE_BITS,
  CURVE_PARAMS,
  certificateFields,
  curveFromParams,
  ecPointFromAttribute,
  ecSpki,
  rsaSpki,
} from './keyEncoding.ts';
import {
  type LoadedModule,
  acquireModule,
  inModule,
  isNotInitialised,
  pinHash,
  reinitialiseModule,
  releaseModule,
  samePin,
} from './Pkcs11Module.ts';
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

/** CK_STATE values (PKCS#11 v2.40 §5.6.1); pkcs11js does not export them. */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;
const SESSION_STATES = ['CKS_RO_PUBLIC_SESSION', 'CKS_RO_USER_FUNCTIONS', 'CKS_RW_PUBLIC_SESSION', 'CKS_RW_USER_FUNCTIONS', 'CKS_RW_SO_FUNCTIONS'];
const SESSION_FLAGS = pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION;

/** After a failed recovery, further attempts wait this long (doubling up to the maximum): no login storm. */
const RECOVERY_BACKOFF_MIN_MS = 1000;
const RECOVERY_BACKOFF_MAX_MS = 30_000;

const hex = (h: Handle): string => h.toString('hex');

/** @internal what openToken hands to the constructor. */
export interface TokenParts {
  mod: LoadedModule;
  slot: Handle;
  tokenLabel: string;
  sessions: Handle[];
  /** SHA-256 of the PIN (for the per-process login record), never the PIN. */
  pinHash: Buffer;
  /** C_Login as CKU_USER on a session; CKR_USER_ALREADY_LOGGED_IN is success. Closes over the PIN. */
  login: (session: Handle) => void;
  logger?: TokenLogger;
}

interface RecoveryFailure {
  at: number;
  waitMs: number;
  err: HsmError;
  /** A PIN rejected or locked: never try C_Login again with it (each try would count towards lockout). */
  final: boolean;
}

export class Pkcs11Token implements SessionRunner {
  private closing: Promise<void> | undefined;
  private readonly mod: LoadedModule;
  private slot: Handle;
  readonly tokenLabel: string;
  private readonly pool: SessionPool<Handle>;
  private readonly pinHash: Buffer;
  private readonly login: (session: Handle) => void;
  private readonly logger: TokenLogger | undefined;
  /** Bumped by each successful recovery; an operation remembers the generation of its session. */
  private generation = 0;
  /** The module epoch (see LoadedModule.epoch) in which the pooled sessions were opened. */
  private moduleEpoch: number;
  private recovering: Promise<void> | undefined;
  private lastFailure: RecoveryFailure | undefined;
  /** Private key handles by (CKA_ID, CKA_LABEL); valid for one generation, cleared by a recovery. */
  private readonly keyHandles = new Map<string, Handle>();

  /** @internal use {@link openToken} */
  constructor(parts: TokenParts) {
    this.mod = parts.mod;
    this.slot = parts.slot;
    this.tokenLabel = parts.tokenLabel;
    this.pool = new SessionPool(parts.sessions);
    this.pinHash = parts.pinHash;
    this.login = parts.login;
    this.logger = parts.logger;
    this.moduleEpoch = parts.mod.epoch;
    for (const s of parts.sessions) this.mod.sessionOwners.set(hex(s), this);
  }

  get lib(): pkcs11js.PKCS11 {
    return this.mod.lib;
  }

  private get slotKey(): string {
    return hex(this.slot);
  }

  /**
   * Raw access to one pooled session, with no recovery: for tests and administrative calls. Service code
   * goes through the token's methods and {@link withKey}, which recover from a lost session or login.
   */
  withSession<T>(fn: (session: Handle) => Promise<T> | T): Promise<T> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.pool.use((s) => inModule(this.mod, () => fn(s)));
  }

  /** @internal the current session handles (diagnostics and tests). */
  get sessionHandles(): readonly Handle[] {
    return this.pool.all;
  }

  /**
   * Run `fn` with a session and the handle of the private key `key` (looked up by CKA_LABEL and CKA_ID,
   * cached until the next recovery). Used by Pkcs11Signer, so a Signer kept for the life of the process
   * keeps working after the token has reopened its sessions.
   */
  withKey<T>(key: Pick<KeyInfo, 'label' | 'id'>, context: string, fn: (session: Handle, handle: Handle) => Promise<T> | T): Promise<T> {
    return this.run(context, (s) => fn(s, this.keyHandle(s, key.label, key.id)));
  }

  private closedError(): HsmError {
    return new HsmError('hsm-closed', `token "${this.tokenLabel}" has been closed`);
  }

  /**
   * Recoverable when the module was (or is being) initialised again since the pooled sessions were
   * opened: they died with it, and their numbers may now name other sessions, so they are not used.
   */
  private staleSessions(): HsmError | undefined {
    if (this.moduleEpoch === this.mod.epoch && !this.mod.reinitialising) return undefined;
    return markRecoverable(
      new HsmError('hsm-closed', `token "${this.tokenLabel}": its sessions ended when the PKCS#11 module was finalised`, {
        details: { ckr: 'CKR_CRYPTOKI_NOT_INITIALIZED', tokenLabel: this.tokenLabel },
      }),
    );
  }

  /**
   * Run PKCS#11 calls on one session, mapping failures to HsmError. When the failure means that the
   * sessions or the login are gone (isRecoverable), recover once and, if `retry`, run `fn` again; a
   * second such failure is `hsm-unavailable` (503, retryable), never a 404.
   */
  private async run<T>(context: string, fn: (session: Handle) => Promise<T> | T, opts: { retry?: boolean } = {}): Promise<T> {
    const retry = opts.retry ?? true;
    let last: HsmError | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      let generation: number | undefined;
      try {
        return await this.withSession(async (s) => {
          generation = this.generation;
          try {
            const stale = this.staleSessions();
            if (stale) throw stale;
            return await fn(s);
          } catch (e) {
            const err = toHsmError(e, context);
            // A module may report an operation cut short by a dying session with a generic code
            // (SoftHSM2: CKR_GENERAL_ERROR); if the session is now dead or logged out, recover too.
            if (err.code === 'hsm-failure' && !isRecoverable(err) && this.loginProblem(s)) markRecoverable(err);
            throw err;
          }
        });
      } catch (e) {
        const err = toHsmError(e, context);
        if (generation === undefined || !isRecoverable(err)) throw err;
        last = err;
        if (attempt > 0) break;
        // The session is back in the pool here, so the recovery can take all of them.
        await this.recover(generation, err);
        if (!retry) break;
      }
    }
    throw this.unavailable(context, last);
  }

  private unavailable(context: string, cause: HsmError | undefined): HsmError {
    return new HsmError('hsm-unavailable', `${context}: the HSM session or login was lost (${String(cause?.details?.ckr ?? cause?.code ?? 'unknown')}); try again`, {
      details: { ...cause?.details, tokenLabel: this.tokenLabel },
      cause,
    });
  }

  /**
   * Reopen every session and log in again, once for all the operations that saw the failure at
   * generation `seen` (single flight). Resolves when the token is usable again; rejects with a 503.
   */
  private recover(seen: number, cause: HsmError): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    if (this.generation !== seen) return Promise.resolve(); // someone else already recovered
    if (this.recovering) return this.recovering;
    const failed = this.lastFailure;
    if (failed && (failed.final || Date.now() - failed.at < failed.waitMs)) return Promise.reject(failed.err);
    this.logger?.warn({ tokenLabel: this.tokenLabel, reason: cause.details?.ckr ?? cause.code }, 'HSM session or login lost: reopening sessions and logging in again');
    this.recovering = this.pool
      .replace((old) => this.renew(old))
      .then(
        () => {
          this.lastFailure = undefined;
          this.logger?.warn({ tokenLabel: this.tokenLabel, generation: this.generation }, 'HSM sessions reopened and logged in');
        },
        (e: unknown) => {
          const err = this.recoveryError(e);
          const final = err.code === 'hsm-pin-incorrect' || err.code === 'hsm-pin-locked';
          const waitMs = Math.min((failed?.waitMs ?? RECOVERY_BACKOFF_MIN_MS / 2) * 2, RECOVERY_BACKOFF_MAX_MS);
          this.lastFailure = { at: Date.now(), waitMs, err, final };
          this.logger?.warn({ tokenLabel: this.tokenLabel, err: err.message, code: err.code, retryInMs: final ? undefined : waitMs }, 'HSM recovery failed');
          throw err;
        },
      )
      .finally(() => {
        this.recovering = undefined;
      });
    return this.recovering;
  }

  private recoveryError(e: unknown): HsmError {
    const err = toHsmError(e, `reopening the sessions of token "${this.tokenLabel}"`);
    if (['hsm-pin-incorrect', 'hsm-pin-locked', 'hsm-token-absent', 'hsm-closed', 'hsm-unavailable'].includes(err.code)) return err;
    return new HsmError('hsm-unavailable', `token "${this.tokenLabel}" could not be recovered: ${err.message}`, { details: err.details, cause: err });
  }

  /**
   * The swap run by SessionPool.replace with every session idle. A module finalised underneath the
   * token (CKR_CRYPTOKI_NOT_INITIALIZED from the slot search) is initialised again first, once for all
   * the tokens of the process that use it, and the sessions are then opened in the new epoch.
   */
  private async renew(old: readonly Handle[]): Promise<Handle[]> {
    // Another token is initialising the module again: open the new sessions after it, not before.
    if (this.mod.reinitialising) await this.mod.reinitialising;
    try {
      return this.reopen(old);
    } catch (e) {
      if (!isNotInitialised(e)) throw e;
    }
    await reinitialiseModule(this.mod, this.logger);
    return this.reopen(old);
  }

  /**
   * Synchronous, so nothing else of this process touches the module meanwhile. Opens the new sessions
   * and logs in before closing the old ones, so the login of other handles on the slot (shared per
   * application) never drops to public.
   */
  private reopen(old: readonly Handle[]): Handle[] {
    const { lib } = this;
    if (this.closing) throw this.closedError();
    // A restarted HSM may come back in another slot: find the token by label again.
    const slot = findSlot(this.mod, this.tokenLabel);
    const fresh: Handle[] = [];
    try {
      for (let i = 0; i < old.length; i++) {
        try {
          fresh.push(lib.C_OpenSession(slot, SESSION_FLAGS));
        } catch (e) {
          throw toHsmError(e, `reopening session ${i + 1} of ${old.length} on token "${this.tokenLabel}"`);
        }
      }
      this.login(fresh[0] as Handle);
      const notLoggedIn = this.loginProblem(fresh[0] as Handle);
      if (notLoggedIn) throw notLoggedIn;
    } catch (e) {
      for (const s of fresh) {
        try {
          lib.C_CloseSession(s);
        } catch {
          // Cleanup after a failed reopen; the original error is what matters.
        }
      }
      throw e;
    }
    const owners = this.mod.sessionOwners;
    // After an HSM restart the module may number the new sessions as the dead ones: those are ours now.
    const reused = new Set(fresh.map(hex));
    for (const s of old) {
      if (reused.has(hex(s))) continue;
      if (owners.get(hex(s)) !== this) continue; // the number now belongs to someone else's session
      owners.delete(hex(s));
      try {
        lib.C_CloseSession(s);
      } catch {
        // Already gone with the old login (C_CloseAllSessions, HSM restart): nothing to free.
      }
    }
    for (const s of fresh) owners.set(hex(s), this);
    if (!slot.equals(this.slot)) this.moveLoginRecord(slot);
    this.moduleEpoch = this.mod.epoch;
    this.generation++;
    this.keyHandles.clear();
    return fresh;
  }

  /** Keep the per-process login bookkeeping (see Pkcs11Module) in step when the token changed slot. */
  private moveLoginRecord(slot: Handle): void {
    const { logins } = this.mod;
    const old = logins.get(this.slotKey);
    if (old && --old.count <= 0) logins.delete(this.slotKey);
    this.slot = slot;
    const next = logins.get(this.slotKey);
    if (next) next.count++;
    else logins.set(this.slotKey, { count: 1, pinHash: this.pinHash });
  }

  /** Undefined when `session` is alive and logged in as the user; else the (recoverable) reason. */
  private loginProblem(session: Handle): HsmError | undefined {
    let state: number;
    try {
      state = this.lib.C_GetSessionInfo(session).state;
    } catch (e) {
      return toHsmError(e, `token "${this.tokenLabel}" session info`);
    }
    if (state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS) return undefined;
    const name = SESSION_STATES[state] ?? `state ${state}`;
    return markRecoverable(
      new HsmError('hsm-unavailable', `token "${this.tokenLabel}": the session is not logged in as the user (${name})`, {
        details: { tokenLabel: this.tokenLabel, sessionState: name },
      }),
    );
  }

  private requireLogin(session: Handle): void {
    const problem = this.loginProblem(session);
    if (problem) throw problem;
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

  /** The private key labelled `label` (and with CKA_ID `id` when given). */
  private findPrivateKey(session: Handle, label: string, id = ''): Handle {
    const found = this.find(session, [
      { type: CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: CKA_LABEL, value: label },
      ...(id ? [{ type: CKA_ID, value: idBytes(id) }] : []),
    ]);
    const first = found[0];
    if (first === undefined) {
      // Private objects are invisible to a session that is not logged in: that is a lost login, not a
      // missing key (and is recovered from); only a logged-in search that finds nothing means 404.
      this.requireLogin(session);
      throw new HsmError('hsm-key-not-found', `no private key labelled "${label}"${id ? ` with CKA_ID ${id}` : ''} in token "${this.tokenLabel}"`, {
        details: { label, ...(id ? { id } : {}), tokenLabel: this.tokenLabel },
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

  private keyHandle(session: Handle, label: string, id: string): Handle {
    const cacheKey = JSON.stringify([id, label]);
    let handle = this.keyHandles.get(cacheKey);
    if (handle === undefined) {
      handle = this.findPrivateKey(session, label, id);
      this.keyHandles.set(cacheKey, handle);
    }
    return handle;
  }

  /**
   * A Signer for the key labelled `label`. It holds the key's label and CKA_ID, not a handle: each
   * signature gets the handle through the token, so the Signer survives a recovery of the token.
   */
  async getSigner(label: string): Promise<Signer> {
    return this.run(`looking up key "${label}"`, (s) => {
      const priv = this.findPrivateKey(s, label);
      const info = this.keyInfo(s, priv);
      const cert = info.id ? this.certificateById(s, info.id) : undefined;
      this.keyHandles.set(JSON.stringify([info.id, info.label]), priv);
      return new Pkcs11Signer(this, info, cert);
    });
  }

  async listKeys(): Promise<KeyInfo[]> {
    return this.run('listing keys', (s) => {
      // Not logged in, the private keys are invisible and the list would be wrongly empty.
      this.requireLogin(s);
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
    }, { retry: false }); // not run again after a recovery: the first attempt may have created the key
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
      for (const cacheKey of [...this.keyHandles.keys()]) {
        if ((JSON.parse(cacheKey) as [string, string])[1] === label) this.keyHandles.delete(cacheKey);
      }
      this.lib.C_DestroyObject(s, priv);
      for (const h of related) this.lib.C_DestroyObject(s, h);
    }, { retry: false }); // not run again after a recovery: the first attempt may have destroyed part of it
  }

  /**
   * Readiness for /readyz: the token is still in its slot with its label, its PIN is not locked, and
   * every pooled session is alive and logged in as the user (C_GetSessionInfo). A lost session or login
   * gets one recovery (shared with any running operation); if that fails, ping rejects with the reason.
   */
  async ping(): Promise<void> {
    if (this.closing) throw this.closedError();
    if (this.recovering) await this.recovering.catch(() => undefined);
    const seen = this.generation;
    const problem = this.health();
    if (problem === undefined) return;
    if (!isRecoverable(problem)) throw problem;
    await this.recover(seen, problem);
    const still = this.health();
    if (still) throw isRecoverable(still) ? this.unavailable(`token "${this.tokenLabel}" readiness`, still) : still;
  }

  /** What is wrong with the token and its sessions right now, or undefined. Synchronous, holds no session. */
  private health(): HsmError | undefined {
    // Sessions of an earlier epoch: C_GetSessionInfo on their numbers may describe someone else's.
    const stale = this.staleSessions();
    if (stale) return stale;
    let info: pkcs11js.TokenInfo;
    try {
      info = this.lib.C_GetTokenInfo(this.slot);
    } catch (e) {
      // CKR_SLOT_ID_INVALID after a restart that renumbered the slots: a recovery finds it again.
      const err = toHsmError(e, `token "${this.tokenLabel}" info`);
      return isPkcs11Error(e) && e.code === pkcs11js.CKR_SLOT_ID_INVALID ? markRecoverable(err) : err;
    }
    if (info.label.trim() !== this.tokenLabel) {
      return markRecoverable(
        new HsmError('hsm-token-absent', `the slot no longer holds token "${this.tokenLabel}"`, { details: { tokenLabel: this.tokenLabel } }),
      );
    }
    if (info.flags & pkcs11js.CKF_USER_PIN_LOCKED) {
      return new HsmError('hsm-pin-locked', `the user PIN of token "${this.tokenLabel}" is locked`, { details: { tokenLabel: this.tokenLabel } });
    }
    for (const s of this.pool.all) {
      const problem = this.loginProblem(s);
      if (problem) return problem;
    }
    return undefined;
  }

  /** Wait for admitted operations, log out (if no other handle in this process uses the slot), close sessions. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.pool.drain();
    // A recovery admitted before close finishes first, so the sessions closed below are the current ones.
    while (this.recovering) await this.recovering.catch(() => undefined);
    const { lib } = this;
    const record = this.mod.logins.get(this.slotKey);
    const last = record === undefined || record.count <= 1;
    if (record) record.count--;
    if (last) this.mod.logins.delete(this.slotKey);
    // Sessions that died with a finalised module are not logged out or closed: their numbers may now
    // be another token's sessions (and a failed re-initialisation leaves nothing to end).
    const live = this.moduleEpoch === this.mod.epoch && !this.mod.reinitialising;
    try {
      if (live && last && this.pool.all[0] !== undefined) {
        try {
          lib.C_Logout(this.pool.all[0]);
        } catch (e) {
          if (!(isPkcs11Error(e) && e.code === pkcs11js.CKR_USER_NOT_LOGGED_IN)) this.logger?.warn({ err: toHsmError(e, 'C_Logout').message }, 'HSM logout failed');
        }
      }
      for (const s of this.pool.all) {
        if (this.mod.sessionOwners.get(hex(s)) === this) this.mod.sessionOwners.delete(hex(s));
        if (!live) continue;
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
    let slot: Handle;
    try {
      slot = findSlot(mod, opts.tokenLabel);
    } catch (e) {
      // The module this process already loaded was finalised underneath it: initialise it again.
      if (!isNotInitialised(e)) throw e;
      await reinitialiseModule(mod, opts.logger);
      slot = findSlot(mod, opts.tokenLabel);
    }
    const slotKey = slotKeyOf(slot);
    for (let i = 0; i < opts.poolSize; i++) {
      try {
        sessions.push(mod.lib.C_OpenSession(slot, SESSION_FLAGS));
      } catch (e) {
        throw toHsmError(e, `opening session ${i + 1} of ${opts.poolSize} on token "${opts.tokenLabel}"`);
      }
    }
    const hash = pinHash(opts.pin);
    const { pin, tokenLabel } = opts;
    // The only place that keeps the PIN after opening: a closure (not a property, so never serialised
    // or logged with the token), used by the recovery to log in again.
    const login = (session: Handle): void => {
      try {
        mod.lib.C_Login(session, pkcs11js.CKU_USER, pin);
      } catch (e) {
        if (!(isPkcs11Error(e) && e.code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) {
          throw scrub(toHsmError(e, `logging in to token "${tokenLabel}"`), pin);
        }
      }
    };
    const record = mod.logins.get(slotKey);
    if (record) {
      // Already logged in by another handle of this process (login state is per application): the token
      // will not check the PIN again, so compare with the one that logged in.
      if (!samePin(record.pinHash, hash)) {
        throw new HsmError('hsm-pin-incorrect', `token "${opts.tokenLabel}": the PIN differs from the one already logged in`, {
          details: { tokenLabel: opts.tokenLabel },
        });
      }
      // The record outlives a re-initialisation of the module, the login does not: log in again then.
      const { state } = mod.lib.C_GetSessionInfo(sessions[0] as Handle);
      if (state !== CKS_RO_USER_FUNCTIONS && state !== CKS_RW_USER_FUNCTIONS) login(sessions[0] as Handle);
      record.count++;
    } else {
      login(sessions[0] as Handle);
      mod.logins.set(slotKey, { count: 1, pinHash: hash });
    }
    counted = true;
    return new Pkcs11Token({ mod, slot, tokenLabel, sessions, pinHash: hash, login, logger: opts.logger });
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
