// The RFC 3161 client against the built-in TSA (real HSM key) on a loopback server, and against servers
// that misbehave in one precise way each.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeTimeStampReq,
  encodeTimeStampResp,
  encodeTstInfo,
  parseTimeStampReq,
  parseTimeStampResp,
  type TimeStampReqInfo,
  type TimeStampReqInput,
} from '../../src/cms/index.ts';
import type { DigestAlgorithm } from '../../src/signers/Signer.ts';
import {
  DEV_TSA_POLICY_OID,
  TsaClient,
  TsaError,
  requestTimestamp,
  signTimeStampToken,
  type TimeStampAuthority,
} from '../../src/tsa/index.ts';
import { devCertPath, readPemDer } from '../support/hsm.ts';
import { openDevTsaKit, run, startServer, tsaHandler, type DevTsaKit, type Handler, type TestServer } from './tsaTestKit.ts';

let kit: DevTsaKit;
let tsa: TimeStampAuthority;
let server: TestServer;
const extraServers: TestServer[] = [];
const REPLY = 'application/timestamp-reply';
const fast = { retries: 2, retryDelayMs: 5, timeoutMs: 10_000 } as const;

beforeAll(async () => {
  kit = await openDevTsaKit();
  tsa = kit.newTsa({ accuracy: { seconds: 1 }, acceptedPolicies: [DEV_TSA_POLICY_OID, '1.3.6.1.4.1.99999.1.2'] }).tsa;
  server = await startServer(tsaHandler(tsa));
});

afterEach(async () => {
  while (extraServers.length > 0) await extraServers.pop()!.close();
});

afterAll(async () => {
  await server?.close();
  await kit?.close();
});

async function serve(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  extraServers.push(s);
  return s;
}

/** A man in the middle: rewrites the client's request before the real TSA sees it. */
function rewriting(change: (req: TimeStampReqInfo) => Partial<TimeStampReqInput>): Handler {
  return async ({ body }) => {
    const req = parseTimeStampReq(body);
    const input: TimeStampReqInput = {
      messageImprint: { hashAlgorithm: req.messageImprint.hashAlgorithm!, hashedMessage: req.messageImprint.hashedMessage },
      certReq: req.certReq,
      ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
      ...(req.reqPolicy === undefined ? {} : { reqPolicy: req.reqPolicy }),
      ...change(req),
    };
    return { status: 200, contentType: REPLY, body: await tsa.respond(encodeTimeStampReq(input)) };
  };
}

async function failure(promise: Promise<unknown>): Promise<TsaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TsaError);
  return error as TsaError;
}

const nodeHash = (alg: DigestAlgorithm): string => alg.replace('-', '').toLowerCase();

describe('getting tokens from the built-in TSA', () => {
  const cases: Array<[DigestAlgorithm, boolean, string | undefined]> = [];
  for (const alg of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
    for (const nonce of [true, false]) for (const policy of [undefined, '1.3.6.1.4.1.99999.1.2']) cases.push([alg, nonce, policy]);
  }

  it.each(cases)('%s nonce=%s policy=%s: checked token, and openssl ts -verify says OK', async (alg, nonce, policy) => {
    const data = randomBytes(2000);
    const result = await requestTimestamp({ url: server.url, data, digestAlgorithm: alg, nonce, ...(policy ? { policy } : {}), ...fast });
    expect(result.status).toBe('granted');
    expect(result.tstInfo.messageImprint.hashAlgorithm).toBe(alg);
    expect(Buffer.from(result.tstInfo.messageImprint.hashedMessage)).toEqual(createHash(nodeHash(alg)).update(data).digest());
    expect(result.tstInfo.policy).toBe(policy ?? DEV_TSA_POLICY_OID);
    if (nonce) expect(typeof result.tstInfo.nonce).toBe('bigint');
    else expect(result.tstInfo.nonce).toBeUndefined();
    expect(Buffer.from(result.tsaCertificate)).toEqual(Buffer.from(kit.certificate));
    expect(result.certificates).toHaveLength(3);

    const dataFile = path.join(kit.dir, 'client-data.bin');
    const tokenFile = path.join(kit.dir, 'client-token.der');
    writeFileSync(dataFile, data);
    writeFileSync(tokenFile, result.token);
    const v = run('openssl', ['ts', '-verify', '-token_in', '-in', tokenFile, '-data', dataFile, '-CAfile', kit.rootPem, '-untrusted', kit.untrustedPem]);
    expect(v.out).toContain('Verification: OK');
  });

  it('nonces are random per request and match the request', async () => {
    const data = randomBytes(10);
    const a = await requestTimestamp({ url: server.url, data, ...fast });
    const b = await requestTimestamp({ url: server.url, data, ...fast });
    expect(a.tstInfo.nonce).not.toBe(b.tstInfo.nonce);
    const sent = server.received.slice(-2).map((r) => parseTimeStampReq(r.body).nonce);
    expect(sent).toEqual([a.tstInfo.nonce, b.tstInfo.nonce]);
    expect(a.tstInfo.serialNumber < b.tstInfo.serialNumber).toBe(true);
  });

  it('takes a precomputed digest; TsaClient keeps defaults', async () => {
    const hashed = new Uint8Array(createHash('sha384').update('x').digest());
    const client = new TsaClient({ url: server.url, digestAlgorithm: 'SHA-384', ...fast });
    const result = await client.timestamp({ digest: hashed });
    expect(Buffer.from(result.tstInfo.messageImprint.hashedMessage)).toEqual(Buffer.from(hashed));
    const req = parseTimeStampReq(server.received.at(-1)!.body);
    expect(req.certReq).toBe(true);
    expect(req.messageImprint.hashAlgorithm).toBe('SHA-384');
  });

  it('refuses a digest of the wrong length before any request', async () => {
    const before = server.received.length;
    const e = await failure(requestTimestamp({ url: server.url, digest: new Uint8Array(20), digestAlgorithm: 'SHA-256' }));
    expect(e.code).toBe('tsa-misconfigured');
    expect(server.received.length).toBe(before);
  });

  it('certReq=false: the token has no certificates; the TSA certificate must then be given', async () => {
    const data = randomBytes(10);
    const result = await requestTimestamp({ url: server.url, data, certReq: false, tsaCertificate: kit.certificate, ...fast });
    expect(result.certificates).toHaveLength(0);
    expect(parseTimeStampReq(server.received.at(-1)!.body).certReq).toBe(false);
    const e = await failure(requestTimestamp({ url: server.url, data, certReq: false, ...fast }));
    expect(e.code).toBe('tsa-invalid-response');
    expect(e.details?.reason).toBe('certificate-missing');
    // The wrong certificate given instead: the signature cannot verify with its key.
    const other = readPemDer(devCertPath('seal'));
    const wrong = await failure(requestTimestamp({ url: server.url, data, certReq: false, tsaCertificate: other, ...fast }));
    expect(wrong.details?.reason).toBe('not-a-tsa-certificate');
  });
});

describe('authentication', () => {
  it('sends Basic and Bearer credentials; URL userinfo becomes Basic; secrets stay out of messages', async () => {
    await requestTimestamp({ url: server.url, data: randomBytes(5), auth: { basic: { user: 'an', password: 'mật-khẩu' } }, ...fast });
    expect(server.received.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('an:mật-khẩu').toString('base64')}`);
    await requestTimestamp({ url: server.url, data: randomBytes(5), auth: { bearer: 'tok3n' }, ...fast });
    expect(server.received.at(-1)!.headers.authorization).toBe('Bearer tok3n');
    const withUserinfo = server.url.replace('http://', 'http://binh:s%40cret@');
    await requestTimestamp({ url: withUserinfo, data: randomBytes(5), ...fast });
    expect(server.received.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('binh:s@cret').toString('base64')}`);

    const down = await serve(async () => ({ status: 500, contentType: 'text/plain', body: new Uint8Array(0) }));
    const e = await failure(requestTimestamp({ url: down.url.replace('http://', 'http://binh:s3cret@') + '?key=k3y', data: randomBytes(5), ...fast }));
    expect(e.message).not.toMatch(/s3cret|k3y|binh/);
    expect(down.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('binh:s3cret').toString('base64')}`);
  });
});

describe('responses the client must refuse', () => {
  it('a wrong nonce', async () => {
    const s = await serve(rewriting((req) => ({ nonce: req.nonce! + 1n })));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.code).toBe('tsa-invalid-response');
    expect(e.details?.reason).toBe('nonce-mismatch');
  });

  it('a nonce dropped by the TSA', async () => {
    const s = await serve(rewriting(() => ({ nonce: undefined })));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.details?.reason).toBe('nonce-mismatch');
  });

  it('a wrong imprint', async () => {
    const s = await serve(
      rewriting((req) => ({ messageImprint: { hashAlgorithm: req.messageImprint.hashAlgorithm!, hashedMessage: new Uint8Array(32).fill(0xee) } })),
    );
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.code).toBe('tsa-invalid-response');
    expect(e.details?.reason).toBe('imprint-mismatch');
  });

  it('another policy than the one requested', async () => {
    const s = await serve(rewriting(() => ({ reqPolicy: undefined })));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), policy: '1.3.6.1.4.1.99999.1.2', ...fast }));
    expect(e.details?.reason).toBe('policy-mismatch');
  });

  it('no TSA certificate although certReq was set', async () => {
    const s = await serve(rewriting(() => ({ certReq: false })));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.details?.reason).toBe('certificate-missing');
  });

  it('a token signed by a non-TSA certificate (officer1: no timeStamping EKU)', async () => {
    const officer = await kit.token.getSigner('officer1');
    const officerCert = readPemDer(devCertPath('officer1'));
    const s = await serve(async ({ body }) => {
      const req = parseTimeStampReq(body);
      const tstInfo = encodeTstInfo({
        policy: DEV_TSA_POLICY_OID,
        messageImprint: req.messageImprintDer,
        serialNumber: 77n,
        genTime: new Date(),
        ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
      });
      const token = await signTimeStampToken({
        signer: officer,
        certificate: officerCert,
        chain: kit.chain,
        tstInfo,
        digestAlgorithm: 'SHA-256',
        scheme: 'RSASSA-PKCS1-v1_5',
        includeCertificates: true,
      });
      return { status: 200, contentType: REPLY, body: encodeTimeStampResp({ status: 'granted', timeStampToken: token }) };
    });
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.code).toBe('tsa-invalid-response');
    expect(e.details?.reason).toBe('not-a-tsa-certificate');
    expect(e.message).toMatch(/extendedKeyUsage/);
  });

  it('a token whose signature was altered', async () => {
    const s = await serve(async ({ body }) => {
      const token = Uint8Array.from(parseTimeStampResp(await tsa.respond(body)).timeStampToken!);
      // The SignerInfo signature OCTET STRING is the last field of the token.
      token[token.length - 1]! ^= 0x01;
      return { status: 200, contentType: REPLY, body: encodeTimeStampResp({ status: 'granted', timeStampToken: token }) };
    });
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.details?.reason).toBe('signature');
    expect(e.details?.problems).toEqual([expect.stringMatching(/signature invalid: signature-mismatch/)]);
  });

  it('a reply with the wrong content type', async () => {
    const s = await serve(async ({ body }) => ({ status: 200, contentType: 'text/html', body: await tsa.respond(body) }));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.details?.reason).toBe('content-type');
  });

  it('a reply that is not DER', async () => {
    const s = await serve(async () => ({ status: 200, contentType: REPLY, body: new TextEncoder().encode('<html>') }));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.details?.reason).toBe('malformed');
  });
});

describe('statuses', () => {
  it('grantedWithMods is accepted and reported', async () => {
    const s = await serve(async ({ body }) => {
      const token = parseTimeStampResp(await tsa.respond(body)).timeStampToken!;
      return {
        status: 200,
        contentType: REPLY,
        body: encodeTimeStampResp({ status: 'grantedWithMods', statusText: ['accuracy relaxed'], timeStampToken: token }),
      };
    });
    const result = await requestTimestamp({ url: s.url, data: randomBytes(10), ...fast });
    expect(result.status).toBe('grantedWithMods');
    expect(result.statusText).toEqual(['accuracy relaxed']);
  });

  it('a rejection becomes tsa-rejected with the failInfo', async () => {
    const e = await failure(requestTimestamp({ url: server.url, data: randomBytes(10), policy: '1.2.3.4', ...fast }));
    expect(e.code).toBe('tsa-rejected');
    expect(e.retryable).toBe(false);
    expect(e.details).toMatchObject({ pkiStatus: 'rejection', failInfo: ['unacceptedPolicy'] });
  });

  it('HTTP 404 is a rejection, not retried', async () => {
    const s = await serve(async () => ({ status: 404, contentType: 'text/plain', body: new TextEncoder().encode('no') }));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast }));
    expect(e.code).toBe('tsa-rejected');
    expect(e.details?.httpStatus).toBe(404);
    expect(s.received).toHaveLength(1);
  });
});

describe('transport: retries and timeouts', () => {
  it('a 500 then success: retried, token returned', async () => {
    const real = tsaHandler(tsa);
    const s = await serve(async (req) =>
      req.count === 1 ? { status: 500, contentType: 'text/plain', body: new TextEncoder().encode('boom') } : real(req),
    );
    const result = await requestTimestamp({ url: s.url, data: randomBytes(10), ...fast });
    expect(result.status).toBe('granted');
    expect(s.received).toHaveLength(2);
    // The retry sends the same request (same nonce): the token answers it.
    expect(parseTimeStampReq(s.received[1]!.body).nonce).toBe(result.tstInfo.nonce);
  });

  it('5xx every time → tsa-unreachable after 1 + retries attempts', async () => {
    const s = await serve(async () => ({ status: 503, contentType: 'text/plain', body: new Uint8Array(0) }));
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast, retries: 3 }));
    expect(e.code).toBe('tsa-unreachable');
    expect(e.status).toBe(503);
    expect(e.retryable).toBe(true);
    expect(e.details).toMatchObject({ attempts: 4, httpStatus: 503 });
    expect(s.received).toHaveLength(4);
  });

  it('connection refused → tsa-unreachable', async () => {
    const s = await startServer(async () => undefined);
    const url = s.url;
    await s.close();
    const e = await failure(requestTimestamp({ url, data: randomBytes(10), ...fast, retries: 1 }));
    expect(e.code).toBe('tsa-unreachable');
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.details?.attempts).toBe(2);
  });

  it('a server that never answers → tsa-timeout, not retried', async () => {
    const s = await serve(async () => undefined);
    const e = await failure(requestTimestamp({ url: s.url, data: randomBytes(10), ...fast, timeoutMs: 300 }));
    expect(e.code).toBe('tsa-timeout');
    expect(e.retryable).toBe(true);
    expect(s.received).toHaveLength(1);
  });
});
