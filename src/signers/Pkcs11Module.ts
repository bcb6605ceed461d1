/**
 * One loaded and initialised PKCS#11 library per path and process. Cryptoki keeps global state per
 * application (PKCS#11 v2.40 §5.4: a second C_Initialize returns CKR_CRYPTOKI_ALREADY_INITIALIZED,
 * and the login state of a token is shared by all sessions of the application, §5.6), so opening
 * two tokens — or the same token twice — must share one initialisation and one login.
 *
 * The module may also be finalised underneath us (a vendor library that finalises itself after a
 * network-HSM fail-over, C_Finalize by another component of the process): every call then answers
 * CKR_CRYPTOKI_NOT_INITIALIZED. reinitialiseModule initialises it again, once for all its tokens.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { HsmError, isPkcs11Error, toHsmError } from './errors.ts';

export interface LoginRecord {
  /** Open Pkcs11Token handles on this slot. */
  count: number;
  /** SHA-256 of the PIN that logged in, to refuse a second open with another PIN. Never logged. */
  pinHash: Buffer;
}

export interface LoadedModule {
  readonly path: string;
  readonly lib: pkcs11js.PKCS11;
  refs: number;
  readonly logins: Map<string, LoginRecord>;
  /**
   * Which token handle of this process opened each live session (key: the session handle, hex). A
   * token that replaces its sessions closes only the old ones it still owns, so a handle number that
   * the module reused for another token's new session is never closed by mistake.
   */
  readonly sessionOwners: Map<string, object>;
  /**
   * How many times this process initialised the module again after it was finalised. Sessions of an
   * earlier epoch died with the finalisation, and the module numbers its new sessions afresh (SoftHSM2
   * from 1 again): an old handle may now name another token's session, so it is never used or closed.
   */
  epoch: number;
  /** Operations of this process running in the module (each holding a session), see inModule. */
  busy: number;
  /** Called when `busy` drops to 0: a re-initialisation waits for that. */
  readonly idle: (() => void)[];
  /** The re-initialisation in progress, shared by every caller (single flight). */
  reinitialising: Promise<void> | undefined;
}

/** The token's logger, as far as this file needs it. */
export interface ModuleLogger {
  warn(obj: object, msg: string): void;
}

/** CKF_OS_LOCKING_OK: pkcs11js runs the *Async calls on libuv worker threads, so the module must lock. */
const INIT_ARGS = { flags: pkcs11js.CKF_OS_LOCKING_OK };

const loaded = new Map<string, LoadedModule>();

export function acquireModule(path: string): LoadedModule {
  const existing = loaded.get(path);
  if (existing) {
    existing.refs++;
    return existing;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (cause) {
    // dlopen's message names the path and the loader's reason; it holds no secret.
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new HsmError('hsm-module-load-failed', `cannot load the PKCS#11 module ${path}: ${reason}`, {
      details: { module: path },
      cause,
    });
  }
  try {
    // With NULL init args a module may assume single-threaded use (PKCS#11 v2.40 §5.4).
    lib.C_Initialize(INIT_ARGS);
  } catch (e) {
    if (!(isPkcs11Error(e) && e.code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
      try {
        lib.close();
      } catch {
        // The load succeeded; unloading is best effort and the init error is the one to report.
      }
      const err = toHsmError(e, `C_Initialize of ${path}`);
      throw new HsmError('hsm-module-load-failed', err.message, { details: { module: path, ...err.details }, cause: e });
    }
  }
  const mod: LoadedModule = { path, lib, refs: 1, logins: new Map(), sessionOwners: new Map(), epoch: 0, busy: 0, idle: [], reinitialising: undefined };
  loaded.set(path, mod);
  return mod;
}

export function releaseModule(mod: LoadedModule): void {
  mod.refs--;
  if (mod.refs > 0) return;
  loaded.delete(mod.path);
  try {
    mod.lib.C_Finalize();
  } catch (e) {
    // Finalised already (underneath us, and not initialised again): nothing left to end.
    if (!isNotInitialised(e)) throw e;
  } finally {
    mod.lib.close();
  }
}

/** True for CKR_CRYPTOKI_NOT_INITIALIZED, raw from pkcs11js or mapped to an HsmError. */
export function isNotInitialised(e: unknown): boolean {
  if (e instanceof HsmError) return e.details?.ckr === 'CKR_CRYPTOKI_NOT_INITIALIZED';
  return isPkcs11Error(e) && e.code === pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED;
}

/** Run `fn` (which holds a session) counted as an operation inside the module, see reinitialiseModule. */
export async function inModule<T>(mod: LoadedModule, fn: () => Promise<T> | T): Promise<T> {
  mod.busy++;
  try {
    return await fn();
  } finally {
    if (--mod.busy === 0) for (const resolve of mod.idle.splice(0)) resolve();
  }
}

/**
 * Initialise again a module that was finalised underneath this process, once for every token that
 * uses it: callers that come while it runs get the same promise. It first waits until no operation of
 * this process is inside the module, so no call that started before (an asynchronous C_Sign on a worker
 * thread) can reach the new initialisation with a handle of the old one; tokens refuse to start new
 * operations meanwhile (Pkcs11Token.staleSessions). CKR_CRYPTOKI_ALREADY_INITIALIZED (another component
 * initialised it) counts as success. Then a new epoch starts: every session handle known so far is dead.
 * Never C_Finalize or C_CloseAllSessions here: a module may crash if sessions end under a running call.
 */
export function reinitialiseModule(mod: LoadedModule, logger?: ModuleLogger): Promise<void> {
  if (mod.reinitialising) return mod.reinitialising;
  logger?.warn({ module: mod.path, busy: mod.busy }, 'PKCS#11 module finalised underneath the service: initialising it again');
  mod.reinitialising = (async () => {
    while (mod.busy > 0) await new Promise<void>((resolve) => mod.idle.push(resolve));
    try {
      mod.lib.C_Initialize(INIT_ARGS);
    } catch (e) {
      if (!(isPkcs11Error(e) && e.code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
        const err = toHsmError(e, `C_Initialize of ${mod.path}`);
        const reason = typeof err.details?.ckr === 'string' ? `C_Initialize answered ${err.details.ckr}` : err.message;
        throw new HsmError('hsm-closed', `the PKCS#11 module ${mod.path} was finalised and could not be initialised again (${reason})`, {
          details: { ...err.details, module: mod.path },
          cause: err,
        });
      }
    }
    mod.epoch++;
    // Those sessions are gone: nobody owns their numbers any more (a token must not close them).
    mod.sessionOwners.clear();
    logger?.warn({ module: mod.path, epoch: mod.epoch }, 'PKCS#11 module initialised again');
  })().finally(() => {
    mod.reinitialising = undefined;
  });
  return mod.reinitialising;
}

export function pinHash(pin: string): Buffer {
  return createHash('sha256').update(pin, 'utf8').digest();
}

export function samePin(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
