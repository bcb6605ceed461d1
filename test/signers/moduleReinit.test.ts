/**
 * The token recovers by itself when the PKCS#11 module is finalised underneath it (a vendor library
 * that finalises itself after a network-HSM fail-over, C_Finalize by another component of the process),
 * against the real SoftHSM2 token. The finalisation is a real C_Finalize on the library this process
 * loaded: through the token's own pkcs11js handle, or through a second handle of the same library,
 * which shares its state (dlopen returns the loaded library: its C_Initialize answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED, and its C_Finalize ends the module for the whole process). It only
 * runs while no call is inside the module: SoftHSM2 may crash when its state goes under a running C_Sign.
 * Every signature is checked with node:crypto against the certificate stored next to the key.
 */
import { X509Certificate, constants, createHash, randomBytes, verify } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HsmError, type Pkcs11Token, type SignatureScheme, type Signer } from '../../src/signers/index.ts';
import { DEV_PKCS11_MODULE, openDevToken, useDevSoftHsmConf } from '../support/hsm.ts';

useDevSoftHsmConf();

const CKS_RW_USER_FUNCTIONS = 3;

/** Each warning as its message plus the logged object in JSON, as a log line would carry them. */
const warnings: string[] = [];
const logger = {
  warn: (obj: object, msg: string): void => {
    warnings.push(msg, JSON.stringify(obj));
    onWarn?.(msg);
  },
};
/** Told of each warning as it is logged (a test waits for one before going on). */
let onWarn: ((msg: string) => void) | undefined;
const count = (msg: string): number => warnings.filter((m) => m === msg).length;
const reinitialisations = (): number => count('PKCS#11 module initialised again');
const recoveries = (): number => count('HSM sessions reopened and logged in');

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
  onWarn = undefined;
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  useDevSoftHsmConf();
});

const openSecond = (): Promise<Pkcs11Token> => openDevToken({ poolSize: 1, logger });

const digestOf = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/** Sign `data` and check the signature with node:crypto and the key's certificate. */
async function signAndVerify(signer: Signer, data: Buffer, scheme: SignatureScheme): Promise<void> {
  const sig = await signer.sign(digestOf(data), 'SHA-256', scheme);
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

/** The module is really finalised: a call that needs no session answers CKR_CRYPTOKI_NOT_INITIALIZED. */
function expectFinalised(): void {
  let code: number | undefined;
  try {
    token.lib.C_GetInfo();
  } catch (e) {
    code = (e as { code?: number }).code;
  }
  expect(code).toBe(pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED);
}

/** C_Finalize through a second pkcs11js handle of the same library, as another component of the process would. */
function finaliseThroughSecondHandle(): void {
  const other = new pkcs11js.PKCS11();
  other.load(DEV_PKCS11_MODULE);
  try {
    try {
      other.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if ((e as { code?: number }).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    other.C_Finalize();
  } finally {
    other.close(); // dlclose only: the token's handle keeps the library loaded
  }
}

describe('a module finalised underneath the token', () => {
  for (const [through, finalise] of [
    ['the token’s own module handle', () => token.lib.C_Finalize()],
    ['a second pkcs11js handle of the same library', finaliseThroughSecondHandle],
  ] as const) {
    it(`signs again after C_Finalize through ${through}: one re-initialisation, sessions and login restored`, async () => {
      await signAndVerify(seal, Buffer.from('before the finalisation'), 'RSASSA-PKCS1-v1_5');
      const init = vi.spyOn(token.lib, 'C_Initialize');
      finalise();
      expectFinalised();

      await signAndVerify(seal, Buffer.from('after the finalisation'), 'RSASSA-PKCS1-v1_5');
      await signAndVerify(ec, Buffer.from('after the finalisation, EC'), 'ECDSA');
      expect(init).toHaveBeenCalledTimes(1);
      expect(reinitialisations()).toBe(1);
      expect(recoveries()).toBe(1);
      expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
      // Keys are found again by label: a Signer looked up now works, and listing sees the private keys.
      await signAndVerify(await token.getSigner('officer1'), Buffer.from('fresh signer'), 'RSASSA-PSS');
      expect((await token.listKeys()).map((k) => k.label)).toContain('tsa');
      await expect(token.ping()).resolves.toBeUndefined();
      expect(init).toHaveBeenCalledTimes(1);
    });
  }

  it('is recovered by ping (what /readyz uses) when no signature comes', async () => {
    const init = vi.spyOn(token.lib, 'C_Initialize');
    token.lib.C_Finalize();
    await expect(token.ping()).resolves.toBeUndefined();
    expect(init).toHaveBeenCalledTimes(1);
    expect(reinitialisations()).toBe(1);
    expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    await signAndVerify(seal, Buffer.from('after ping'), 'RSASSA-PSS');
    expect(init).toHaveBeenCalledTimes(1);
  });

  it('many signatures started right after the finalisation, on two tokens of the module, all succeed with one re-initialisation', async () => {
    const second = await openSecond();
    try {
      expect(second.lib).toBe(token.lib); // one loaded module per path and process
      const officer1 = await second.getSigner('officer1');
      const init = vi.spyOn(token.lib, 'C_Initialize');
      const jobs: Promise<{ ok: boolean; error?: unknown }>[] = [];
      const launch = (signer: Signer, n: number, tag: string): void => {
        for (let i = 0; i < n; i++) {
          const data = Buffer.from(`${tag} document ${i}`);
          const scheme: SignatureScheme = signer === ec ? 'ECDSA' : i % 2 === 0 ? 'RSASSA-PKCS1-v1_5' : 'RSASSA-PSS';
          jobs.push(
            signer.sign(digestOf(data), 'SHA-256', scheme).then(
              (sig) => ({ ok: isValid(signer, data, scheme, sig) }),
              (error: unknown) => ({ ok: false, error }),
            ),
          );
        }
      };
      // Two blockers hold both sessions of `token`, so no call of it is inside the module when it is
      // finalised; its signatures queue behind them, while those of `second` start at once, fail, and
      // ask for the re-initialisation. The blockers let go only then: the re-initialisation must wait
      // for them, as for any operation in flight, before calling C_Initialize.
      const gate = new Promise<void>((open) => {
        onWarn = (msg) => {
          if (msg === 'PKCS#11 module finalised underneath the service: initialising it again') open();
        };
      });
      const initCallsAtRelease: number[] = [];
      let held = 0;
      const blocker = (): Promise<void> =>
        token.withSession(async () => {
          if (++held === 2) {
            token.lib.C_Finalize();
            launch(seal, 12, 'seal');
            launch(ec, 6, 'ec');
            launch(officer1, 8, 'second token');
          }
          await gate;
          initCallsAtRelease.push(init.mock.calls.length);
        });
      await Promise.all([blocker(), blocker()]);
      const results = await Promise.all(jobs);
      expect(results).toHaveLength(26);
      for (const r of results) expect(r.error).toBeUndefined();
      expect(results.filter((r) => r.ok)).toHaveLength(results.length);

      expect(initCallsAtRelease).toEqual([0, 0]);
      expect(init).toHaveBeenCalledTimes(1);
      expect(reinitialisations()).toBe(1);
      expect(recoveries()).toBe(2); // each token reopened its sessions once
      expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
      expect(sessionStates(second)).toEqual([CKS_RW_USER_FUNCTIONS]);
      // No session is shared by the two tokens (the module numbered its new sessions afresh).
      const all = [...token.sessionHandles, ...second.sessionHandles].map((s) => s.toString('hex'));
      expect(new Set(all).size).toBe(3);
    } finally {
      await second.close();
    }
    // Closing the second token ended its own sessions only.
    expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    await signAndVerify(seal, Buffer.from('after the second token closed'), 'RSASSA-PKCS1-v1_5');
  });

  it('fails cleanly (hsm-closed, 503) when the module cannot be initialised again, does not retry in a loop, and recovers once it can', async () => {
    const init = vi.spyOn(token.lib, 'C_Initialize');
    // What SoftHSM2 reads at C_Initialize is gone (as a network HSM's client configuration could be):
    // its C_Initialize then fails with CKR_GENERAL_ERROR.
    process.env.SOFTHSM2_CONF = path.join(tmpdir(), `chungthuc-missing-${randomBytes(4).toString('hex')}.conf`);
    token.lib.C_Finalize();
    const err = await seal.sign(digestOf(Buffer.from('x')), 'SHA-256', 'RSASSA-PKCS1-v1_5').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect(err).toMatchObject({ code: 'hsm-closed', status: 503, retryable: true, details: { ckr: 'CKR_GENERAL_ERROR', module: DEV_PKCS11_MODULE } });
    expect((err as HsmError).message).toContain(`the PKCS#11 module ${DEV_PKCS11_MODULE} was finalised and could not be initialised again`);
    expect(init).toHaveBeenCalledTimes(1);
    expect(count('HSM recovery failed')).toBe(1);

    // Within the back-off, neither a signature nor /readyz tries again: the same error, at once.
    const again = await ec.sign(digestOf(Buffer.from('y')), 'SHA-256', 'ECDSA').catch((e: unknown) => e);
    expect(again).toBe(err);
    await expect(token.ping()).rejects.toBe(err);
    expect(init).toHaveBeenCalledTimes(1);
    expect(count('HSM recovery failed')).toBe(1);
    expect(reinitialisations()).toBe(0);

    // The configuration is back and the back-off (1 s) has passed (the clock is moved, not waited for).
    useDevSoftHsmConf();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 1500);
    await signAndVerify(seal, Buffer.from('after the module could be initialised again'), 'RSASSA-PKCS1-v1_5');
    expect(init).toHaveBeenCalledTimes(2);
    expect(reinitialisations()).toBe(1);
    expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
  });

  it('never tries again a PIN that the token rejects after the re-initialisation', async () => {
    const second = await openSecond();
    const officer1 = await second.getSigner('officer1');
    const init = vi.spyOn(token.lib, 'C_Initialize');
    // The token's answer to the log-in after the re-initialisation (a PIN changed on the HSM meanwhile);
    // simulated, so the dev token's PIN and its failure counter are never touched.
    const login = vi.spyOn(second.lib, 'C_Login').mockImplementation(() => {
      throw new pkcs11js.Pkcs11Error(`CKR_PIN_INCORRECT:${pkcs11js.CKR_PIN_INCORRECT}`, pkcs11js.CKR_PIN_INCORRECT, 'C_Login');
    });
    try {
      token.lib.C_Finalize();
      const err = await officer1.sign(digestOf(Buffer.from('x')), 'SHA-256', 'RSASSA-PKCS1-v1_5').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HsmError);
      expect(err).toMatchObject({ code: 'hsm-pin-incorrect', retryable: false });
      expect(init).toHaveBeenCalledTimes(1);
      expect(login).toHaveBeenCalledTimes(1);
      // However long after, no back-off ends for a rejected PIN: not one more C_Login.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 10 * 60_000);
      expect(await officer1.sign(digestOf(Buffer.from('y')), 'SHA-256', 'RSASSA-PKCS1-v1_5').catch((e: unknown) => e)).toBe(err);
      await expect(second.ping()).rejects.toBe(err);
      expect(login).toHaveBeenCalledTimes(1);
    } finally {
      login.mockRestore();
      vi.useRealTimers();
    }
    // The other token of the module opens its sessions in the new epoch and logs in with its PIN,
    // without initialising the module once more.
    await signAndVerify(seal, Buffer.from('other token after the refused log-in'), 'RSASSA-PKCS1-v1_5');
    expect(init).toHaveBeenCalledTimes(1);
    expect(reinitialisations()).toBe(1);
    await second.close();
    expect(sessionStates(token)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    await signAndVerify(ec, Buffer.from('after the refused token closed'), 'ECDSA');
  });

  it('opens tokens on a finalised module; a token whose sessions died with the module never uses or closes their numbers', async () => {
    const open = (poolSize: number): Promise<Pkcs11Token> => openDevToken({ poolSize, logger });
    const hexes = (t: Pkcs11Token): string[] => t.sessionHandles.map((s) => s.toString('hex'));
    token.lib.C_Finalize();
    // openToken initialises the module again (and logs in: the login did not survive it). SoftHSM2
    // numbers handles from 1 after C_Initialize: `a`, `b` and `c` hold sessions 1, 2 and 3.
    const [a, b, c] = [await open(1), await open(1), await open(1)] as [Pkcs11Token, Pkcs11Token, Pkcs11Token];
    expect(reinitialisations()).toBe(1);
    expect(sessionStates(a)).toEqual([CKS_RW_USER_FUNCTIONS]);
    // Finalised again: `owner`, opened now, initialises the module once more and gets the first three
    // sessions of the new numbering, the very numbers that `a`, `b` and `c` still hold, dead.
    token.lib.C_Finalize();
    const owner = await open(3);
    expect(reinitialisations()).toBe(2);
    expect(hexes(owner)).toEqual([...hexes(a), ...hexes(b), ...hexes(c)]);
    expect(sessionStates(owner)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
    try {
      // /readyz on `a` does not take `owner`'s session for its own: it reopens, in the new epoch.
      await expect(a.ping()).resolves.toBeUndefined();
      expect(hexes(owner)).not.toContain(hexes(a)[0]);
      expect(sessionStates(a)).toEqual([CKS_RW_USER_FUNCTIONS]);
      // Nor does a signature: `b` reopens before signing, on a session of its own.
      await signAndVerify(await b.getSigner('officer1'), Buffer.from('b after the second finalisation'), 'RSASSA-PKCS1-v1_5');
      expect(hexes(owner)).not.toContain(hexes(b)[0]);
      // Closing `c`, whose session died with the module, neither logs out (the login is per application)
      // nor closes `owner`'s session that now carries its number.
      await c.close();
      expect(sessionStates(owner)).toEqual([CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS]);
      await signAndVerify(await owner.getSigner('officer2'), Buffer.from('owner after c closed'), 'ECDSA');
      expect(reinitialisations()).toBe(2);
    } finally {
      for (const t of [a, b, c, owner]) await t.close();
    }
    // The file's token, stale since the first of these re-initialisations, reopens too.
    await signAndVerify(seal, Buffer.from('after the stale tokens'), 'RSASSA-PKCS1-v1_5');
    expect(reinitialisations()).toBe(2);
  });
});
