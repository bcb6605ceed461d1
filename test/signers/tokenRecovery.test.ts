/**
 * The token recovers by itself when its sessions or login are lost (an HSM restart or fail-over,
 * C_Logout or C_CloseAllSessions by another user of the module), against the real SoftHSM2 token.
 * Every signature is checked with node:crypto against the certificate stored next to the key.
 */
import { X509Certificate, constants, createHash, randomBytes, verify } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HsmError, isRecoverable, toHsmError, type Pkcs11Token, type SignatureScheme, type Signer } from '../../src/signers/index.ts';
import { DEV_PKCS11_MODULE, DEV_TOKEN_LABEL, devPin, openDevToken, useDevSoftHsmConf } from '../support/hsm.ts';

useDevSoftHsmConf();

const CKS_RW_PUBLIC_SESSION = 2;
const CKS_RW_USER_FUNCTIONS = 3;

/** Each warning as its message plus the logged object in JSON, as a log line would carry them. */
const warnings: string[] = [];
const logger = { warn: (obj: object, msg: string) => void warnings.push(msg, JSON.stringify(obj)) };
const recoveries = (): number => warnings.filter((m) => m === 'HSM sessions reopened and logged in').length;

let token: Pkcs11Token;
let seal: Signer;
let ec: Signer;

beforeAll(async () => {
  token = await openDevToken({ poolSize: 2, logger });
  seal = await token.getSigner('seal');
  ec = await token.getSigner('officer2');
});

afterAll(async () => {
  await token?.close();
});

beforeEach(() => {
  warnings.length = 0;
});

const slotOf = (lib: pkcs11js.PKCS11): Buffer => {
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === DEV_TOKEN_LABEL);
  if (!slot) throw new Error('dev token not found');
  return slot;
};

/** Sign `data` and check the signature with node:crypto and the key's certificate. */
async function signAndVerify(signer: Signer, data: Buffer, scheme: SignatureScheme): Promise<void> {
  const sig = await signer.sign(createHash('sha256').update(data).digest(), 'SHA-256', scheme);
  expect(isValid(signer, data, scheme, sig)).toBe(true);
}

function isValid(signer: Signer, data: Buffer, scheme: SignatureScheme, sig: Uint8Array): boolean {
  const key = new X509Certificate(Buffer.from(signer.certificate as Uint8Array)).publicKey;
  if (scheme === 'RSASSA-PSS') return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  if (scheme === 'ECDSA') return verify('sha256', data, { key, dsaEncoding: 'der' }, sig);
  return verify('sha256', data, key, sig);
}

function sessionStates(t: Pkcs11Token): number[] {
  return t.sessionHandles.map((s) => t.lib.C_GetSessionInfo(s).state);
}

/** The old sessions were closed by the recovery (or died with C_CloseAllSessions): none is leaked. */
function expectClosed(t: Pkcs11Token, old: readonly Buffer[]): void {
  for (const s of old) {
    expect(t.sessionHandles.some((n) => n.equals(s))).toBe(false);
    let code: number | undefined;
    try {
      t.lib.C_GetSessionInfo(s);
    } catch (e) {
      code = (e as { code?: number }).code;
    }
    expect(code).toBe(pkcs11js.CKR_SESSION_HANDLE_INVALID);
  }
}

describe('recovery from a lost login or lost sessions', () => {
  it('signs again with the cached Signers after C_Logout through a pooled session, and closes the old sessions', async () => {
    await signAndVerify(seal, Buffer.from('before logout'), 'RSASSA-PKCS1-v1_5');
    const old = [...token.sessionHandles];
    await token.withSession((s) => token.lib.C_Logout(s));
    expect(sessionStates(token)).toEqual([CKS_RW_PUBLIC_SESSION, CKS_RW_PUBLIC_SESSION]);

    await signAndVerify(seal, Buffer.from('after logout'), 'RSASSA-PKCS1-v1_5');
    await signAndVerify(ec, Buffer.from('after logout, EC'), 'ECDSA');
    expect(recoveries()).toBe(1);
    expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    expectClosed(token, old);
    // A Signer looked up afterwards works too, and listing sees the private keys again.
    await signAndVerify(await token.getSigner('officer1'), Buffer.from('fresh signer'), 'RSASSA-PSS');
    expect((await token.listKeys()).length).toBeGreaterThanOrEqual(6);
  });

  it('looks keys up again after a logout: getSigner and listKeys do not take invisible keys for missing ones', async () => {
    await token.withSession((s) => token.lib.C_Logout(s));
    const keys = await token.listKeys();
    expect(keys.map((k) => k.label)).toContain('seal');
    expect(recoveries()).toBe(1);
    await token.withSession((s) => token.lib.C_Logout(s));
    await signAndVerify(await token.getSigner('tsa'), Buffer.from('tsa after logout'), 'RSASSA-PKCS1-v1_5');
  });

  it('signs again after C_CloseAllSessions on the slot through a second pkcs11js handle of the module', async () => {
    const other = new pkcs11js.PKCS11();
    other.load(DEV_PKCS11_MODULE);
    try {
      try {
        other.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
      } catch (e) {
        if ((e as { code?: number }).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
      }
      const old = [...token.sessionHandles];
      other.C_CloseAllSessions(slotOf(other));

      await signAndVerify(ec, Buffer.from('after close-all (second handle)'), 'ECDSA');
      await signAndVerify(seal, Buffer.from('after close-all (second handle), RSA'), 'RSASSA-PSS');
      expect(recoveries()).toBe(1);
      expectClosed(token, old);
      expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    } finally {
      // dlclose only: C_Finalize would end the module for the whole process.
      other.close();
    }
  });

  it('signs again after C_CloseAllSessions through the same module handle', async () => {
    token.lib.C_CloseAllSessions(slotOf(token.lib));
    await signAndVerify(seal, Buffer.from('after close-all (same handle)'), 'RSASSA-PKCS1-v1_5');
    expect(recoveries()).toBe(1);
  });
});

describe('ping (what /readyz uses)', () => {
  it('sees the lost login, recovers it once, and then answers ready', async () => {
    await token.withSession((s) => token.lib.C_Logout(s));
    await expect(token.ping()).resolves.toBeUndefined();
    expect(recoveries()).toBe(1);
    expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    await expect(token.ping()).resolves.toBeUndefined();
    expect(recoveries()).toBe(1);
    await signAndVerify(seal, Buffer.from('after ping recovery'), 'RSASSA-PKCS1-v1_5');
  });

  it('reports not ready (503, retryable) while the login cannot be restored, backs off, then recovers', async () => {
    const old = [...token.sessionHandles];
    token.lib.C_CloseAllSessions(slotOf(token.lib));
    const login = vi.spyOn(token.lib, 'C_Login').mockImplementation(() => {
      throw new pkcs11js.Pkcs11Error('CKR_DEVICE_ERROR:48', pkcs11js.CKR_DEVICE_ERROR, 'C_Login');
    });
    try {
      const err = await token.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HsmError);
      expect(err).toMatchObject({ code: 'hsm-unavailable', status: 503, retryable: true });
      expect(login).toHaveBeenCalledTimes(1);
      // A signature in the meantime is a retryable 503 too, never "key not found", and within the
      // back-off it does not try to log in again.
      const signErr = await seal.sign(createHash('sha256').update('x').digest(), 'SHA-256', 'RSASSA-PKCS1-v1_5').catch((e: unknown) => e);
      expect(signErr).toMatchObject({ status: 503, retryable: true });
      expect((signErr as HsmError).code).not.toBe('hsm-key-not-found');
      expect(login).toHaveBeenCalledTimes(1);
      // The failed attempt closed what it opened: the pool still holds its (dead) sessions only.
      expect(token.sessionHandles.map((s) => s.toString('hex'))).toEqual(old.map((s) => s.toString('hex')));
    } finally {
      login.mockRestore();
    }
    await new Promise((r) => setTimeout(r, 1100));
    await expect(token.ping()).resolves.toBeUndefined();
    await signAndVerify(seal, Buffer.from('after the HSM came back'), 'RSASSA-PKCS1-v1_5');
  });

  it('never shows the PIN in the errors or the log lines of a recovery', async () => {
    token.lib.C_CloseAllSessions(slotOf(token.lib));
    await token.ping();
    expect(warnings.join('\n')).not.toContain(devPin());
  });
});

describe('a key that does not exist', () => {
  it('is still hsm-key-not-found (404, not retryable), including right after a lost login', async () => {
    const err = await token.getSigner('no-such-key').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'hsm-key-not-found', status: 404, retryable: false });
    await token.withSession((s) => token.lib.C_Logout(s));
    const after = await token.getSigner('no-such-key').catch((e: unknown) => e);
    expect(after).toMatchObject({ code: 'hsm-key-not-found', status: 404, retryable: false });
    expect(recoveries()).toBe(1);
  });

  it('is hsm-key-not-found for a cached Signer whose key was deleted behind the token’s back', async () => {
    const label = `test-gone-${randomBytes(4).toString('hex')}`;
    await token.generateKeyPair({ label, type: 'EC', curve: 'P-256' });
    const signer = await token.getSigner(label);
    const digest = createHash('sha256').update('gone').digest();
    expect((await signer.sign(digest, 'SHA-256', 'ECDSA'))[0]).toBe(0x30);
    // Another user of the token deletes the key: the cached handle turns invalid.
    await token.withSession((s) => {
      token.lib.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_LABEL, value: label }]);
      const objects = token.lib.C_FindObjects(s, 10);
      token.lib.C_FindObjectsFinal(s);
      for (const o of objects) token.lib.C_DestroyObject(s, o);
    });
    const err = await signer.sign(digest, 'SHA-256', 'ECDSA').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'hsm-key-not-found', status: 404, retryable: false });
  });
});

/**
 * Kill the sessions while signatures are queued and in flight at the service level, but not inside a
 * native call: SoftHSM2 itself crashes (SIGSEGV) when C_CloseAllSessions races with a C_Sign running on
 * another thread, so the kill runs while two blockers hold both pooled sessions between operations.
 */
function killBetweenOperations(kill: () => void): Promise<void[]> {
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let held = 0;
  const blocker = (): Promise<void> =>
    token.withSession(async () => {
      if (++held === 2) {
        kill();
        open();
      }
      await gate;
    });
  return Promise.all([blocker(), blocker()]);
}

describe('concurrent signatures while the sessions die', () => {
  for (const [what, kill] of [
    ['C_CloseAllSessions', () => token.lib.C_CloseAllSessions(slotOf(token.lib))],
    ['C_Logout', () => token.lib.C_Logout(token.sessionHandles[0] as Buffer)],
  ] as const) {
    it(`after ${what}, every signature ends valid or with a retryable 503, with one recovery and no leaked session`, async () => {
      const old = [...token.sessionHandles];
      const jobs: Promise<{ ok: boolean; error?: unknown }>[] = [];
      const launch = (n: number, tag: string): void => {
        for (let i = 0; i < n; i++) {
          const data = Buffer.from(`${tag} document ${i}`);
          const [signer, scheme]: [Signer, SignatureScheme] = i % 3 === 0 ? [ec, 'ECDSA'] : [seal, i % 3 === 1 ? 'RSASSA-PKCS1-v1_5' : 'RSASSA-PSS'];
          jobs.push(
            signer.sign(createHash('sha256').update(data).digest(), 'SHA-256', scheme).then(
              (sig) => ({ ok: isValid(signer, data, scheme, sig) }),
              (error: unknown) => ({ ok: false, error }),
            ),
          );
        }
      };
      launch(8, 'before');
      const killed = killBetweenOperations(kill);
      launch(16, 'during');
      await new Promise((r) => setImmediate(r));
      launch(8, 'after');
      await killed;
      const results = await Promise.all(jobs);
      for (const r of results) {
        if (r.ok) continue;
        // Not valid: it must be a clean, retryable failure, never a bad signature or a 404.
        expect(r.error).toBeInstanceOf(HsmError);
        expect(r.error).toMatchObject({ status: 503, retryable: true });
      }
      // With a single recovery and one retry each, every signature in fact succeeds.
      expect(results.filter((r) => r.ok)).toHaveLength(results.length);
      expect(recoveries()).toBe(1);
      expect(token.sessionHandles).toHaveLength(2);
      expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
      expectClosed(token, old);
      await signAndVerify(seal, Buffer.from(`${what}: afterwards`), 'RSASSA-PKCS1-v1_5');
    });
  }
});

describe('an HSM that numbers its sessions again from 1 after a restart', () => {
  it('keeps the new sessions even when they carry the dead ones\' numbers, and signs on the first retry', async () => {
    // A stand-in module (the rest of the token is the real code): the lowest free handle is handed out.
    const ckr = (name: 'CKR_SESSION_HANDLE_INVALID' | 'CKR_USER_NOT_LOGGED_IN' | 'CKR_USER_ALREADY_LOGGED_IN', method: string) =>
      Object.assign(new Error(name), { code: pkcs11js[name], method });
    const handle = (n: number) => Buffer.from(Uint32Array.of(n, 0).buffer);
    const numberOf = (b: Buffer) => b.readUInt32LE(0);
    const open = new Set<number>();
    let loggedIn = false;
    const slot = handle(0);
    const live = (s: Buffer, method: string) => {
      if (!open.has(numberOf(s))) throw ckr('CKR_SESSION_HANDLE_INVALID', method);
    };
    const lib = {
      C_OpenSession: () => {
        let n = 1;
        while (open.has(n)) n++;
        open.add(n);
        return handle(n);
      },
      C_CloseSession: (s: Buffer) => {
        if (!open.delete(numberOf(s))) throw ckr('CKR_SESSION_HANDLE_INVALID', 'C_CloseSession');
      },
      // CKS_RW_USER_FUNCTIONS (3) once logged in, else CKS_RW_PUBLIC_SESSION (2): PKCS#11 v2.40 §5.7.
      C_GetSessionInfo: (s: Buffer) => (live(s, 'C_GetSessionInfo'), { state: loggedIn ? 3 : 2 }),
      C_Login: () => {
        if (loggedIn) throw ckr('CKR_USER_ALREADY_LOGGED_IN', 'C_Login');
        loggedIn = true;
      },
      C_GetSlotList: () => [slot],
      C_GetTokenInfo: () => ({ label: 'stand-in', flags: 0 }),
      C_FindObjectsInit: (s: Buffer) => live(s, 'C_FindObjectsInit'),
      C_FindObjects: () => [handle(99)],
      C_FindObjectsFinal: () => {},
    };
    const mod = {
      path: 'stand-in',
      lib,
      refs: 1,
      logins: new Map([[slot.toString('hex'), { count: 1, pinHash: Buffer.alloc(32) }]]),
      sessionOwners: new Map(),
      epoch: 0,
      busy: 0,
      idle: [],
      reinitialising: undefined,
    };
    const sessions = [lib.C_OpenSession(), lib.C_OpenSession()];
    lib.C_Login();
    const login = () => {
      try {
        lib.C_Login();
      } catch (e) {
        if ((e as { code: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
    };
    const { Pkcs11Token } = await import('../../src/signers/Pkcs11Token.ts');
    const token = new Pkcs11Token({ mod: mod as never, slot, tokenLabel: 'stand-in', sessions, pinHash: Buffer.alloc(32), login });
    const sign = () =>
      token.withKey({ label: 'k', id: '' }, 'signing', (s) => {
        live(s, 'C_SignInit');
        if (!loggedIn) throw ckr('CKR_USER_NOT_LOGGED_IN', 'C_SignInit');
        return 'signed';
      });
    expect(await sign()).toBe('signed');
    // The HSM restarts: sessions and login gone; its next sessions are numbered 1 and 2 again.
    open.clear();
    loggedIn = false;
    expect(await sign()).toBe('signed');
    expect(token.sessionHandles.map(numberOf).sort()).toEqual([1, 2]);
    expect([...open].sort()).toEqual([1, 2]); // still open: not closed as if they were the dead ones
    expect(await sign()).toBe('signed');
  });
});

describe('error mapping', () => {
  const ckr = (name: keyof typeof pkcs11js & `CKR_${string}`): HsmError =>
    toHsmError(new pkcs11js.Pkcs11Error(`${name}:${pkcs11js[name] as number}`, pkcs11js[name] as number, 'C_SignInit'), 'signing');

  it('maps lost sessions, logins and key handles to a recoverable, retryable 503', () => {
    for (const name of [
      'CKR_USER_NOT_LOGGED_IN',
      'CKR_SESSION_HANDLE_INVALID',
      'CKR_SESSION_CLOSED',
      'CKR_DEVICE_ERROR',
      'CKR_DEVICE_MEMORY',
      'CKR_KEY_HANDLE_INVALID',
      'CKR_OBJECT_HANDLE_INVALID',
    ] as const) {
      const err = ckr(name);
      expect(err, name).toMatchObject({ code: 'hsm-unavailable', status: 503, retryable: true, details: { ckr: name } });
      expect(isRecoverable(err), name).toBe(true);
    }
    for (const name of ['CKR_DEVICE_REMOVED', 'CKR_TOKEN_NOT_PRESENT'] as const) {
      expect(ckr(name)).toMatchObject({ code: 'hsm-token-absent', status: 503, retryable: true });
      expect(isRecoverable(ckr(name))).toBe(true);
    }
    // The module was finalised underneath the token: still hsm-closed, now cured by initialising it again.
    expect(ckr('CKR_CRYPTOKI_NOT_INITIALIZED')).toMatchObject({ code: 'hsm-closed', status: 503, retryable: true, details: { ckr: 'CKR_CRYPTOKI_NOT_INITIALIZED' } });
    expect(isRecoverable(ckr('CKR_CRYPTOKI_NOT_INITIALIZED'))).toBe(true);
    expect(isRecoverable(ckr('CKR_PIN_INCORRECT'))).toBe(false);
    expect(isRecoverable(ckr('CKR_MECHANISM_INVALID'))).toBe(false);
  });
});
