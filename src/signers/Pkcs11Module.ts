/**
 * One loaded and initialised PKCS#11 library per path and process. Cryptoki keeps global state per
 * application (PKCS#11 v2.40 §5.4: a second C_Initialize returns CKR_CRYPTOKI_ALREADY_INITIALIZED,
 * and the login state of a token is shared by all sessions of the application, §5.6), so opening
 * two tokens — or the same token twice — must share one initialisation and one login.
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
}

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
    // CKF_OS_LOCKING_OK: pkcs11js runs the *Async calls on libuv worker threads, so the module must
    // lock; with NULL init args a module may assume single-threaded use (PKCS#11 v2.40 §5.4).
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
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
  const mod: LoadedModule = { path, lib, refs: 1, logins: new Map(), sessionOwners: new Map() };
  loaded.set(path, mod);
  return mod;
}

export function releaseModule(mod: LoadedModule): void {
  mod.refs--;
  if (mod.refs > 0) return;
  loaded.delete(mod.path);
  try {
    mod.lib.C_Finalize();
  } finally {
    mod.lib.close();
  }
}

export function pinHash(pin: string): Buffer {
  return createHash('sha256').update(pin, 'utf8').digest();
}

export function samePin(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
