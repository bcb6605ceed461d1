/**
 * Typed errors of the signers layer. Codes are stable identifiers published to API clients; messages
 * are built from non-secret arguments only — the PIN is never passed to any of these constructors.
 */
import pkcs11js from 'pkcs11js';
import { AppError, type AppErrorOptions } from '../errors.ts';

export type HsmErrorCode =
  | 'hsm-module-load-failed'
  | 'hsm-token-absent'
  | 'hsm-pin-incorrect'
  | 'hsm-pin-locked'
  | 'hsm-key-not-found'
  | 'hsm-key-exists'
  | 'hsm-key-unsupported'
  | 'hsm-digest-invalid'
  | 'hsm-failure'
  | 'hsm-unavailable'
  | 'hsm-closed';

/** Default HTTP status and retry hint per code: a missing token or a busy device may come back. */
const DEFAULTS: Record<HsmErrorCode, { status: number; retryable: boolean }> = {
  'hsm-module-load-failed': { status: 503, retryable: false },
  'hsm-token-absent': { status: 503, retryable: true },
  'hsm-pin-incorrect': { status: 503, retryable: false },
  'hsm-pin-locked': { status: 503, retryable: false },
  'hsm-key-not-found': { status: 404, retryable: false },
  'hsm-key-exists': { status: 409, retryable: false },
  'hsm-key-unsupported': { status: 422, retryable: false },
  'hsm-digest-invalid': { status: 422, retryable: false },
  'hsm-failure': { status: 502, retryable: true },
  'hsm-unavailable': { status: 503, retryable: true },
  'hsm-closed': { status: 503, retryable: true },
};

export class HsmError extends AppError {
  declare readonly code: HsmErrorCode;

  constructor(code: HsmErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...DEFAULTS[code], ...options });
  }
}

/** Reverse table CKR value → name, built from the constants pkcs11js exports. */
const CKR_NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(pkcs11js as unknown as Record<string, unknown>)) {
    if (k.startsWith('CKR_') && typeof v === 'number' && !m.has(v)) m.set(v, k);
  }
  return m;
})();

export function ckrName(code: number): string {
  return CKR_NAMES.get(code) ?? `CKR_0x${code.toString(16).padStart(8, '0')}`;
}

/** The shape pkcs11js gives its `Pkcs11Error` (a CK_RV in `.code`, the function in `.method`). */
interface Pkcs11ErrorLike {
  readonly code: number;
  readonly method?: string;
  readonly message: string;
}

export function isPkcs11Error(e: unknown): e is Pkcs11ErrorLike {
  return e instanceof pkcs11js.Pkcs11Error || (e instanceof Error && /^CKR_/.test(e.message) && typeof (e as { code?: unknown }).code === 'number');
}

/**
 * CK_RVs after which the sessions or the login of the application are gone (an HSM restart or fail-over,
 * C_Logout or C_CloseAllSessions by another user of the module), or a key handle no longer names its
 * object (handles of private objects die with the login, PKCS#11 v2.40 §5.6). The token answers them by
 * reopening its sessions, logging in again and looking the key up again (Pkcs11Token.recover). After
 * CKR_CRYPTOKI_NOT_INITIALIZED (the module was finalised underneath us) it initialises the module again first.
 */
const RECOVERABLE_CKR: ReadonlySet<number> = new Set(
  [
    pkcs11js.CKR_USER_NOT_LOGGED_IN,
    pkcs11js.CKR_SESSION_HANDLE_INVALID,
    pkcs11js.CKR_SESSION_CLOSED,
    pkcs11js.CKR_DEVICE_REMOVED,
    pkcs11js.CKR_DEVICE_ERROR,
    pkcs11js.CKR_DEVICE_MEMORY,
    pkcs11js.CKR_TOKEN_NOT_PRESENT,
    pkcs11js.CKR_KEY_HANDLE_INVALID,
    pkcs11js.CKR_OBJECT_HANDLE_INVALID,
    pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  ].filter((v): v is number => typeof v === 'number'),
);

/** Errors the token may cure by recovering its sessions; kept out of the error object so clients never see it. */
const recoverableErrors = new WeakSet<HsmError>();

export function markRecoverable(err: HsmError): HsmError {
  recoverableErrors.add(err);
  return err;
}

/** True for an error that a session reopen + login + key lookup may cure (see RECOVERABLE_CKR). */
export function isRecoverable(err: unknown): boolean {
  return err instanceof HsmError && recoverableErrors.has(err);
}

/**
 * Map whatever a pkcs11js call threw to an HsmError. The original error is kept as `cause` only when it
 * is a pkcs11js error: those carry the CKR name and the function, never call arguments, so no PIN.
 */
export function toHsmError(e: unknown, context: string): HsmError {
  if (e instanceof HsmError) return e;
  if (isPkcs11Error(e)) {
    const err = mapCkr(e, context);
    return RECOVERABLE_CKR.has(e.code) ? markRecoverable(err) : err;
  }
  // Not a CK_RV (a TypeError from argument checking, a native loader error): keep only the message
  // text, which pkcs11js builds from the function name, not from arguments.
  const msg = e instanceof Error ? e.message : String(e);
  return new HsmError('hsm-failure', `${context}: ${msg}`, { details: { context } });
}

function mapCkr(e: Pkcs11ErrorLike, context: string): HsmError {
  const rv = e.code;
  const name = ckrName(rv);
  const details = { ckr: name, method: e.method ?? '', context };
  // PKCS#11 v2.40 §5.1 (return values): PIN states reported by C_Login.
  if (rv === pkcs11js.CKR_PIN_INCORRECT || rv === pkcs11js.CKR_PIN_INVALID || rv === pkcs11js.CKR_PIN_LEN_RANGE) {
    return new HsmError('hsm-pin-incorrect', `${context}: the token rejected the PIN (${name})`, { details });
  }
  if (rv === pkcs11js.CKR_PIN_LOCKED || rv === pkcs11js.CKR_PIN_EXPIRED) {
    return new HsmError('hsm-pin-locked', `${context}: the user PIN is locked or expired (${name})`, { details });
  }
  if (rv === pkcs11js.CKR_TOKEN_NOT_PRESENT || rv === pkcs11js.CKR_DEVICE_REMOVED || rv === pkcs11js.CKR_TOKEN_NOT_RECOGNIZED) {
    return new HsmError('hsm-token-absent', `${context}: the token is not present (${name})`, { details });
  }
  if (rv === pkcs11js.CKR_KEY_TYPE_INCONSISTENT || rv === pkcs11js.CKR_MECHANISM_INVALID || rv === pkcs11js.CKR_KEY_FUNCTION_NOT_PERMITTED) {
    return new HsmError('hsm-key-unsupported', `${context}: the key cannot do this operation (${name})`, { details });
  }
  // A handle that stopped naming its object is not proof that the key is gone: handles of private
  // objects die with the login. Whether the key exists is decided by looking it up again by label.
  if (rv === pkcs11js.CKR_KEY_HANDLE_INVALID || rv === pkcs11js.CKR_OBJECT_HANDLE_INVALID) {
    return new HsmError('hsm-unavailable', `${context}: the key handle is no longer valid (${name})`, { details });
  }
  if (
    rv === pkcs11js.CKR_USER_NOT_LOGGED_IN ||
    rv === pkcs11js.CKR_SESSION_HANDLE_INVALID ||
    rv === pkcs11js.CKR_SESSION_CLOSED ||
    rv === pkcs11js.CKR_DEVICE_ERROR ||
    rv === pkcs11js.CKR_DEVICE_MEMORY
  ) {
    return new HsmError('hsm-unavailable', `${context}: the HSM session or login was lost (${name})`, { details });
  }
  if (rv === pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) {
    return new HsmError('hsm-closed', `${context}: the PKCS#11 module is not initialised (${name})`, { details });
  }
  return new HsmError('hsm-failure', `${context}: PKCS#11 call ${e.method ?? ''} failed with ${name}`, { details });
}
