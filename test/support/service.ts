/** Starts the real service (real HSM token, real SQLite file, real listening socket) on port 0. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startService, createLogger, type Service } from '../../src/main.ts';

export interface TestService extends Service {
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-test-'));
  // Metrics off unless a test asks for them (several services may run at once; one fixed port).
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_PORT: '0', ...env });
  const service = await startService(config, createLogger(config));
  return Object.assign(service, {
    dataDir,
    async stop() {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
