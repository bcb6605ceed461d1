/** The registry of CLI commands; later features add theirs here. */
import { loadConfig } from '../config.ts';
import { openToken } from '../signers/index.ts';
import type { Command } from './command.ts';
import { signCommand } from './signCommand.ts';
import { extendCommand } from './extendCommand.ts';
import { verifyCommand } from './verifyCommand.ts';
import { annul, certify, registryBackup, registryVerify, tenantAllowKey, tenantConfigure, tenantCreate } from './registryCommands.ts';
import { apikeyCreate, apikeyList, apikeyRevoke, auditList, officerCreate, officerDisable, officerList, officerResetPassword, officerUpdate } from './accessCommands.ts';
import { registryCloseYear, registryVolumes } from './volumeCommands.ts';

const serve: Command = {
  path: ['serve'],
  summary: 'run the HTTP service (same as `npm start` without the setup step)',
  usage: '',
  options: {},
  async run() {
    await import('../main.ts').then((m) => m.runFromCommandLine());
    return await new Promise<number>(() => {
      /* runs until a signal stops the process */
    });
  },
};

const config: Command = {
  path: ['config'],
  summary: 'print the effective configuration (secrets redacted) and exit',
  usage: '',
  options: {},
  async run(_values, _positionals, io) {
    const c = loadConfig();
    const tsaAuth = c.tsa.auth === undefined ? undefined : '[redacted]';
    io.out(JSON.stringify({ ...c, pkcs11: { ...c.pkcs11, pin: '[redacted]' }, tsa: { ...c.tsa, auth: tsaAuth } }, null, 2) + '\n');
    return 0;
  },
};

const hsmKeys: Command = {
  path: ['hsm', 'keys'],
  summary: 'list the signing keys in the configured PKCS#11 token',
  usage: '[--json]',
  options: { json: [{ type: 'boolean' }, 'print JSON instead of a table'] },
  async run(values, _positionals, io) {
    const c = loadConfig();
    const token = await openToken({ ...c.pkcs11, poolSize: 1 });
    try {
      const keys = await token.listKeys();
      if (values.json === true) io.out(JSON.stringify(keys, null, 2) + '\n');
      else for (const k of keys) io.out(`${k.label.padEnd(20)} ${k.keyType} ${k.namedCurve ?? k.bits}  id=${k.id}\n`);
      return 0;
    } finally {
      await token.close();
    }
  },
};

export const COMMANDS: readonly Command[] = [serve, config, hsmKeys, signCommand, extendCommand, verifyCommand, tenantCreate, tenantAllowKey, tenantConfigure, certify, annul, registryVerify, registryBackup, registryVolumes, registryCloseYear, apikeyCreate, apikeyList, apikeyRevoke, auditList, officerCreate, officerList, officerUpdate, officerDisable, officerResetPassword];
