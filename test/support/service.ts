/** Starts the real service (real HSM token, real SQLite file, real listening socket) on port 0. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startService, createLogger, type Service } from '../../src/main.ts';
import { DEV_PATHS } from './hsm.ts';

export interface TestService extends Service {
  dataDir: string;
  stop(): Promise<void>;
}

/** `logger`: where the service logs (default: silent unless LOG_LEVEL says otherwise). */
export async function startTestService(env: Record<string, string> = {}, logger?: Logger): Promise<TestService> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-test-'));
  // Metrics off unless a test asks for them (several services may run at once; one fixed port).
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_PORT: '0', ...env });
  const service = await startService(config, logger ?? createLogger(config));
  return Object.assign(service, {
    dataDir,
    async stop() {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export interface SpawnedService {
  child: ChildProcess;
  url: string;
  /** The signal that ended it (null after a plain exit). */
  exited: Promise<NodeJS.Signals | null>;
}

/**
 * Starts `src/main.ts` in its own process on an existing DATA_DIR (API keys required, the dev PKI
 * services left to the test); resolves with its URL once it listens.
 */
export function spawnService(dataDir: string, env: Record<string, string> = {}): Promise<SpawnedService> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: DEV_PATHS.root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', METRICS_PORT: '0', API_AUTH: 'required', DEV_PKI_SERVICES: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, exited });
    });
    child.on('exit', (code) => reject(new Error(`service exited (${code}) before listening: ${err}`)));
  });
}
