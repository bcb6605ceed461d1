/**
 * Failure paths of openToken and the token handle, against the real SoftHSM2 module. The wrong-PIN
 * case runs first, while no handle of this process is logged in (the login state is per process), and
 * only twice in all, well below any lockout counter.
 */
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { HsmError, openToken, type Pkcs11Token } from '../../src/signers/index.ts';
import { DEV_PKCS11_MODULE, DEV_TOKEN_LABEL, devPin, openDevToken, useDevSoftHsmConf } from '../support/hsm.ts';

useDevSoftHsmConf();

/** Everything an error could leak through: message, stack, cause chain, JSON (details included). */
function everything(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof Error) parts.push(e.message, e.stack ?? '', JSON.stringify(e), JSON.stringify((e as { details?: unknown }).details ?? null));
    else parts.push(String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join('\n');
}

const open: Pkcs11Token[] = [];
afterAll(async () => {
  for (const t of open) await t.close();
});

describe('openToken failures', () => {
  it('maps CKR_PIN_INCORRECT to hsm-pin-incorrect and never shows the PIN', async () => {
    const wrongPin = `wrong-${randomBytes(6).toString('hex')}`;
    const err = await openToken({ module: DEV_PKCS11_MODULE, tokenLabel: DEV_TOKEN_LABEL, pin: wrongPin, poolSize: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    const h = err as HsmError;
    expect(h.code).toBe('hsm-pin-incorrect');
    expect(h.details).toMatchObject({ ckr: 'CKR_PIN_INCORRECT' });
    const text = everything(err);
    expect(text).toContain('hsm-pin-incorrect');
    expect(text).not.toContain(wrongPin);
    expect(text).not.toContain(devPin());
  });

  it('still opens with the right PIN afterwards, and refuses a second open with another PIN while logged in', async () => {
    const t = await openDevToken({ poolSize: 1 });
    open.push(t);
    await expect(t.ping()).resolves.toBeUndefined();
    const wrongPin = `wrong-${randomBytes(6).toString('hex')}`;
    const err = await openToken({ module: DEV_PKCS11_MODULE, tokenLabel: DEV_TOKEN_LABEL, pin: wrongPin, poolSize: 1 }).catch((e: unknown) => e);
    expect((err as HsmError).code).toBe('hsm-pin-incorrect');
    expect(everything(err)).not.toContain(wrongPin);
    // A second handle with the right PIN shares the login and works; closing it keeps the first usable.
    const second = await openDevToken({ poolSize: 1 });
    expect((await second.listKeys()).length).toBeGreaterThanOrEqual(6);
    await second.close();
    const signer = await t.getSigner('officer1');
    const sig = await signer.sign(createHash('sha256').update('x').digest(), 'SHA-256', 'RSASSA-PKCS1-v1_5');
    expect(sig.length).toBe(256);
  });

  it('reports an unknown token label as hsm-token-absent', async () => {
    const err = await openToken({ module: DEV_PKCS11_MODULE, tokenLabel: 'no-such-token', pin: devPin(), poolSize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('hsm-token-absent');
    expect((err as HsmError).details).toMatchObject({ tokenLabel: 'no-such-token' });
    expect(everything(err)).not.toContain(devPin());
  });

  it('reports a module that cannot be loaded as hsm-module-load-failed', async () => {
    const err = await openToken({ module: '/nonexistent/libnothing.so', tokenLabel: DEV_TOKEN_LABEL, pin: devPin(), poolSize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('hsm-module-load-failed');
    expect((err as HsmError).message).toContain('/nonexistent/libnothing.so');
    expect(everything(err)).not.toContain(devPin());
  });

  it('reports a library that is not a PKCS#11 module as hsm-module-load-failed', async () => {
    const err = await openToken({ module: 'libz.so.1', tokenLabel: DEV_TOKEN_LABEL, pin: devPin(), poolSize: 1 }).catch((e: unknown) => e);
    expect((err as HsmError).code).toBe('hsm-module-load-failed');
  });
});

describe('closing', () => {
  it('waits for admitted operations, then refuses new ones with hsm-closed', async () => {
    const t = await openDevToken({ poolSize: 1 });
    const signer = await t.getSigner('officer2');
    const digest = createHash('sha256').update('close').digest();
    const inFlight = Array.from({ length: 5 }, () => signer.sign(digest, 'SHA-256', 'ECDSA'));
    const closed = t.close();
    const sigs = await Promise.all(inFlight);
    await closed;
    expect(sigs).toHaveLength(5);
    for (const s of sigs) expect(s[0]).toBe(0x30);
    const after = await signer.sign(digest, 'SHA-256', 'ECDSA').catch((e: unknown) => e);
    expect((after as HsmError).code).toBe('hsm-closed');
    await expect(t.ping()).rejects.toMatchObject({ code: 'hsm-closed' });
    await expect(t.close()).resolves.toBeUndefined();
  });
});
