// The adapters the PAdES layer plugs in as its TimestampSource: the built-in TSA in-process and over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimeStampToken } from '../../src/cms/index.ts';
import type { TimestampSource } from '../../src/pades/index.ts';
import { TsaError, httpTimestampSource, localTimestampSource } from '../../src/tsa/index.ts';
import { openDevTsaKit, run, startServer, tsaHandler, type DevTsaKit, type TestServer } from './tsaTestKit.ts';

let kit: DevTsaKit;
let server: TestServer;

beforeAll(async () => {
  kit = await openDevTsaKit();
  server = await startServer(tsaHandler(kit.newTsa().tsa));
});

afterAll(async () => {
  await server?.close();
  await kit?.close();
});

function opensslVerifiesDigest(token: Uint8Array, imprint: Uint8Array): string {
  const file = path.join(kit.dir, `src-${randomBytes(4).toString('hex')}.der`);
  writeFileSync(file, token);
  return run('openssl', ['ts', '-verify', '-token_in', '-in', file, '-digest', Buffer.from(imprint).toString('hex'), '-CAfile', kit.rootPem, '-untrusted', kit.untrustedPem]).out;
}

describe('timestamp sources', () => {
  it('local: a token for the imprint that openssl verifies, within the size estimate, with its time and TSA', async () => {
    const tsa = kit.newTsa().tsa;
    const source: TimestampSource = localTimestampSource(tsa);
    const imprint = new Uint8Array(createHash('sha384').update('signature value').digest());
    const { token, genTime, tsaCertificate } = await source.timestamp(imprint, 'SHA-384');
    const parsed = parseTimeStampToken(token);
    expect(parsed.tstInfo.messageImprint.hashAlgorithm).toBe('SHA-384');
    expect(genTime).toEqual(parsed.tstInfo.genTime);
    expect(Buffer.from(tsaCertificate).equals(Buffer.from(tsa.certificate))).toBe(true);
    expect(token.length).toBeLessThanOrEqual(source.tokenSizeEstimate);
    expect(opensslVerifiesDigest(token, imprint)).toContain('Verification: OK');
  });

  it('local: a refused request becomes tsa-rejected', async () => {
    const source = localTimestampSource(kit.newTsa({ acceptedImprintAlgorithms: ['SHA-256'] }).tsa);
    const error = await source.timestamp(new Uint8Array(64), 'SHA-512').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TsaError);
    expect((error as TsaError).code).toBe('tsa-rejected');
    expect((error as TsaError).details).toEqual({ failInfo: ['badAlg'] });
  });

  it('http: the same through requestTimestamp', async () => {
    const source: TimestampSource = httpTimestampSource({ url: server.url, retries: 0 });
    const imprint = new Uint8Array(createHash('sha256').update('x').digest());
    const { token, genTime, tsaCertificate } = await source.timestamp(imprint, 'SHA-256');
    expect(opensslVerifiesDigest(token, imprint)).toContain('Verification: OK');
    expect(token.length).toBeLessThanOrEqual(source.tokenSizeEstimate);
    const parsed = parseTimeStampToken(token);
    expect(genTime).toEqual(parsed.tstInfo.genTime);
    expect(Buffer.from(tsaCertificate).equals(Buffer.from(parsed.signedData.signerCertificate!))).toBe(true);
  });
});
