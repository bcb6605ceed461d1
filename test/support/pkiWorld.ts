/**
 * The running world most end-to-end tests need: the real service on port 0, the dev `openssl ocsp`
 * responder and the CRL/CA-certificate repository on the ports baked into the dev certificates,
 * and a scratch folder; `stop()` tears all of it down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { startOcspResponder, type OcspResponder } from './ocspResponder.ts';
import { startRepoServer, type RepoServer } from './repoServer.ts';
import { startTestService, type TestService } from './service.ts';

export interface PkiWorld {
  svc: TestService;
  ocsp: OcspResponder;
  repo: RepoServer;
  tmp: string;
  stop(): Promise<void>;
}

export async function startPkiWorld(name: string, env: Record<string, string> = {}, logger?: Logger): Promise<PkiWorld> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `chungthuc-${name}-`));
  const svc = await startTestService(env, logger);
  const ocsp = await startOcspResponder();
  const repo = await startRepoServer();
  return {
    svc,
    ocsp,
    repo,
    tmp,
    async stop() {
      await ocsp.stop();
      await repo.stop();
      await svc.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
