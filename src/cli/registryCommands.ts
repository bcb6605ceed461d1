/**
 * Certified copies from the command line (a local officer's tool until accounts and the web console
 * exist): tenants, `certify`, `annul`, and `registry verify` for the event chain.
 */
import { readFileSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { AuditLog, CopyRepository, TenantRepository, TenantSettingsRepository, sealImageKind, type ChainReport, type Tenant, type TenantSettingsChanges } from '../registry/index.ts';
import { parseStampTemplate } from '../stamp/index.ts';
import { certifyCopy } from '../services/certifyCopy.ts';
import { backupAnchors, backupRegistry, checkCopyStore, type BackupReport, type StoreCheck } from '../services/registryBackup.ts';
import type { Command } from './command.ts';
import { openRegister, withRegister } from './register.ts';
import { withTrustServices } from './signingContext.ts';
import { BATCH_OPTIONS, certifyBatch } from './certifyBatch.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
function required(values: Record<string, unknown>, name: string): string {
  const v = str(values[name]);
  if (v === undefined) throw new InputError('invalid-parameters', `--${name} is required`);
  return v;
}
function positiveInt(values: Record<string, unknown>, name: string, def?: number): number {
  const raw = values[name] ?? def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InputError('invalid-parameters', `--${name} must be a positive integer`);
  return n;
}

export const tenantCreate: Command = {
  path: ['tenant', 'create'],
  summary: 'create a tenant (an agency with its own register volumes)',
  usage: '--code CODE --name NAME [--suffix -SCT/BS]',
  options: {
    code: [{ type: 'string' }, 'short unique code, e.g. TH'],
    name: [{ type: 'string' }, 'agency name printed on the stamp'],
    suffix: [{ type: 'string' }, 'register suffix (default -SCT/BS; some provinces use -SCTĐT/BS)'],
  },
  async run(values, _p, io) {
    // The one command that may make the register: the first act of a command-line-only setup.
    const t = withRegister(
      (db) => {
        const created = new TenantRepository(db.db).create({ code: required(values, 'code'), name: required(values, 'name'), registerSuffix: str(values.suffix) });
        const user = process.env.USER ?? 'local';
        new AuditLog(db.db).append({ actorKind: 'cli', actorId: user, tenantId: created.id, action: 'tenant.create', object: `tenant:${created.code}`, outcome: 'success', details: { name: created.name } });
        return created;
      },
      { create: true },
    );
    io.out(`tenant ${t.code}: ${t.name} (${t.registerSuffix}) id=${t.id}\n`);
    return 0;
  },
};

export const tenantAllowKey: Command = {
  path: ['tenant', 'allow-key'],
  summary: "let a tenant's systems sign with an HSM key (its seal, its officers); API keys of other tenants cannot",
  usage: '--tenant CODE --key LABEL',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    key: [{ type: 'string' }, 'HSM key label (CKA_LABEL), e.g. seal'],
  },
  async run(values, _p, io) {
    const label = required(values, 'key');
    const keys = withRegister((db) => {
      const tenants = new TenantRepository(db.db);
      const t = tenants.getByCode(required(values, 'tenant'));
      if (!t) throw new InputError('tenant-not-found', `no tenant with code ${String(values.tenant)}`);
      tenants.allowSigningKey(t.id, label);
      new AuditLog(db.db).append({ actorKind: 'cli', actorId: process.env.USER ?? 'local', tenantId: t.id, action: 'tenant.allow-key', object: `tenant:${t.code}`, outcome: 'success', details: { key: label } });
      return tenants.signingKeys(t.id);
    });
    io.out(`tenant ${String(values.tenant)} may sign with: ${keys.join(', ')}\n`);
    return 0;
  },
};

export const tenantConfigure: Command = {
  path: ['tenant', 'configure'],
  summary: "set a tenant's certified-copy settings: seal key and image, default level, stamp template (no option: show them)",
  usage: '--tenant CODE [--seal-key LABEL] [--seal-image F.png|F.jpg | --clear-seal-image] [--level B-LT|B-LTA] [--template F.json | --clear-template] [--json]',
  options: {
    tenant: [{ type: 'string' }, 'tenant code'],
    'seal-key': [{ type: 'string' }, 'HSM label of the agency seal key (default seal); must be allowed with `tenant allow-key`'],
    'seal-image': [{ type: 'string' }, 'PNG or JPEG of the seal, drawn in the seal signature box (at most 2 MB)'],
    'clear-seal-image': [{ type: 'boolean' }, 'remove the seal image (the box then shows text)'],
    level: [{ type: 'string' }, 'default PAdES level of certified copies: B-LT or B-LTA'],
    template: [{ type: 'string' }, 'stamp template JSON (lines, footer, layout; see README)'],
    'clear-template': [{ type: 'boolean' }, 'back to the built-in certification text'],
    json: [{ type: 'boolean' }, 'print the settings as JSON'],
  },
  async run(values, _p, io) {
    const changes: { -readonly [K in keyof TenantSettingsChanges]: TenantSettingsChanges[K] } = {};
    const sealKey = str(values['seal-key']);
    if (sealKey !== undefined) changes.sealKeyLabel = sealKey;
    const image = str(values['seal-image']);
    if (image !== undefined && values['clear-seal-image'] === true) throw new InputError('invalid-parameters', 'give --seal-image or --clear-seal-image, not both');
    if (image !== undefined) {
      const bytes = new Uint8Array(readFileSync(image));
      const kind = sealImageKind(bytes);
      if (!kind) throw new InputError('invalid-parameters', `${image} is not a PNG or JPEG image`);
      changes.sealImage = { bytes, kind };
    }
    if (values['clear-seal-image'] === true) changes.sealImage = null;
    const level = str(values.level);
    if (level !== undefined) {
      if (level !== 'B-LT' && level !== 'B-LTA') throw new InputError('invalid-parameters', '--level must be B-LT or B-LTA');
      changes.defaultLevel = level;
    }
    const template = str(values.template);
    if (template !== undefined && values['clear-template'] === true) throw new InputError('invalid-parameters', 'give --template or --clear-template, not both');
    if (template !== undefined) {
      const text = readFileSync(template, 'utf8');
      parseStampTemplate(text); // refuses a template that misses a mandatory placeholder, before it is stored
      changes.stampTemplate = text;
    }
    if (values['clear-template'] === true) changes.stampTemplate = null;
    const settings = withRegister((db) => {
      const tenants = new TenantRepository(db.db);
      const t = tenants.getByCode(required(values, 'tenant'));
      if (!t) throw new InputError('tenant-not-found', `no tenant with code ${String(values.tenant)}`);
      const repo = new TenantSettingsRepository(db.db);
      if (Object.keys(changes).length === 0) return repo.get(t.id);
      if (changes.sealKeyLabel !== undefined && !tenants.maySignWith(t.id, changes.sealKeyLabel)) {
        throw new InputError('signing-key-not-allowed', `tenant ${t.code} may not sign with "${changes.sealKeyLabel}": run \`chungthuc tenant allow-key --tenant ${t.code} --key ${changes.sealKeyLabel}\` first`);
      }
      const user = process.env.USER ?? 'local';
      const updated = repo.configure(t.id, changes, `cli:${user}`);
      const details = Object.fromEntries(Object.keys(changes).map((k) => [k, k === 'sealImage' ? (changes.sealImage ? `${changes.sealImage.kind}, ${changes.sealImage.bytes.length} bytes` : null) : k === 'stampTemplate' ? changes.stampTemplate !== null : changes[k as keyof typeof changes]]));
      new AuditLog(db.db).append({ actorKind: 'cli', actorId: user, tenantId: t.id, action: 'tenant.configure', object: `tenant:${t.code}`, outcome: 'success', details });
      return updated;
    });
    const shown = {
      sealKey: settings.sealKeyLabel,
      sealImage: settings.sealImage ? `${settings.sealImage.kind}, ${settings.sealImage.bytes.length} bytes` : null,
      defaultLevel: settings.defaultLevel,
      stampTemplate: settings.stampTemplate === null ? null : (JSON.parse(settings.stampTemplate) as unknown),
      updatedAt: settings.updatedAt?.toISOString() ?? null,
      updatedBy: settings.updatedBy,
    };
    if (values.json === true) io.out(JSON.stringify(shown, null, 2) + '\n');
    else {
      io.out(
        [
          `tenant ${String(values.tenant)}: seal key ${shown.sealKey}, seal image ${shown.sealImage ?? 'none'}, default level ${shown.defaultLevel}`,
          `  stamp template: ${shown.stampTemplate === null ? 'built-in' : 'custom'}`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  },
};

export const certify: Command = {
  path: ['certify'],
  summary: 'certify an electronic copy from scans (PDF/JPEG/PNG/TIFF): stamp, QR, certifier + seal signatures, register entry',
  usage: 'SCAN… -o OUT.pdf --tenant CODE --document-type T --issuer I --requester R --original-pages N [options] | --batch MANIFEST --out-dir DIR --tenant CODE [options]',
  operands: true,
  options: {
    output: [{ type: 'string', short: 'o' }, 'where to write the certified PDF (it is also kept in the file store)'],
    tenant: [{ type: 'string' }, 'tenant code (see `tenant create`)'],
    'document-type': [{ type: 'string' }, 'e.g. "Giấy khai sinh"'],
    issuer: [{ type: 'string' }, "the original's issuer"],
    requester: [{ type: 'string' }, "requester's name (never shown publicly)"],
    'original-pages': [{ type: 'string' }, 'pages of the original (the fee counts these)'],
    copies: [{ type: 'string' }, 'number of copies (default 1)'],
    'case-code': [{ type: 'string' }, 'one-stop case code'],
    'certifier-key': [{ type: 'string' }, 'HSM key of the certifier (default officer1)'],
    'certifier-title': [{ type: 'string' }, 'e.g. "Phó Chủ tịch UBND xã"'],
    'seal-key': [{ type: 'string' }, "HSM key of the agency seal (default: the tenant's, see `tenant configure`)"],
    'seal-image': [{ type: 'string' }, "PNG/JPEG of the seal drawn in the seal box (default: the tenant's)"],
    level: [{ type: 'string' }, "B-LT or B-LTA (default: the tenant's, B-LT)"],
    ...BATCH_OPTIONS,
  },
  async run(values, positionals, io) {
    if (values.batch !== undefined) {
      if (positionals.length > 0) {
        io.err('chungthuc certify: with --batch the scans come from the manifest: no SCAN arguments\n');
        return 2;
      }
      return certifyBatch(values, io, certify.run);
    }
    const out = str(values.output);
    if (positionals.length === 0 || !out) {
      io.err('chungthuc certify: give the scan file(s) and -o OUT.pdf\n');
      return 2;
    }
    const levelOption = str(values.level);
    if (levelOption !== undefined && levelOption !== 'B-LT' && levelOption !== 'B-LTA') throw new InputError('invalid-parameters', '--level must be B-LT or B-LTA');
    const config = loadConfig();
    const db = openRegister();
    try {
      const tenant: Tenant | null = new TenantRepository(db.db).getByCode(required(values, 'tenant'));
      if (!tenant) throw new InputError('tenant-not-found', `no tenant with code ${String(values.tenant)}`);
      // The tenant's settings (`tenant configure`) apply unless an option overrides them.
      const settings = new TenantSettingsRepository(db.db).get(tenant.id);
      const sealImage = str(values['seal-image']);
      const imageBytes = sealImage ? new Uint8Array(readFileSync(sealImage)) : undefined;
      const level = levelOption ?? settings.defaultLevel;
      const r = await withTrustServices((trust) =>
        certifyCopy(
          {
            signing: trust.signing,
            copies: new CopyRepository(db.db),
            storeDir: config.copyStoreDir,
            scanLimits: { maxTotalBytes: config.scanLimitBytes },
            publicBaseUrl: config.publicBaseUrl ?? `http://${config.host}:${config.port}`,
          },
          {
            tenant,
            files: positionals.map((f) => ({ bytes: new Uint8Array(readFileSync(f)), name: path.basename(f) })),
            documentType: required(values, 'document-type'),
            originalIssuer: required(values, 'issuer'),
            requesterName: required(values, 'requester'),
            originalPages: positiveInt(values, 'original-pages'),
            copies: positiveInt(values, 'copies', 1),
            caseCode: str(values['case-code']),
            certifier: { keyLabel: str(values['certifier-key']) ?? 'officer1', title: str(values['certifier-title']) ?? 'Người thực hiện chứng thực' },
            seal: {
              keyLabel: str(values['seal-key']) ?? settings.sealKeyLabel,
              image: imageBytes ? { bytes: imageBytes, kind: imageBytes[0] === 0x89 ? 'png' : 'jpeg' } : (settings.sealImage ?? undefined),
            },
            level,
            template: settings.stampTemplate === null ? undefined : parseStampTemplate(settings.stampTemplate),
            actor: `cli:${process.env.USER ?? 'local'}`,
          },
        ),
      );
      // The copy is registered: its number and access code are printed whatever happens to -o.
      let written: string | undefined;
      try {
        mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        copyFileSync(r.pdfPath, out);
      } catch (err) {
        written = `  ${out} NOT written (${err instanceof Error ? err.message : String(err)}); the certified PDF is at ${r.pdfPath}`;
      }
      io.out(
        [
          `${out}: số chứng thực ${r.record.number}, quyển số ${r.record.volumeLabel}${r.record.registerSuffix}, phí ${r.record.feeVnd} VND`,
          `  tra cứu (verify): ${r.verificationUrl}`,
          `  mã truy cập (access code, shown once): ${r.accessCode}`,
          ...(written ? [written] : []),
          '',
        ].join('\n'),
      );
      return written ? 1 : 0;
    } finally {
      db.close();
    }
  },
};

export const annul: Command = {
  path: ['annul'],
  summary: 'annul a certified copy by decision (nothing is deleted; the public page shows the annulment)',
  usage: 'PUBLIC_CODE --decision NO --date YYYY-MM-DD --reason TEXT',
  operands: true,
  options: {
    decision: [{ type: 'string' }, 'decision number'],
    date: [{ type: 'string' }, 'decision date, YYYY-MM-DD'],
    reason: [{ type: 'string' }, 'reason'],
  },
  async run(values, positionals, io) {
    const code = positionals[0];
    if (positionals.length !== 1 || !code) {
      io.err('chungthuc annul: give exactly one public code\n');
      return 2;
    }
    const decision = { decisionNumber: required(values, 'decision'), decisionDate: required(values, 'date'), reason: required(values, 'reason') };
    const user = process.env.USER ?? 'local';
    const rec = withRegister((db) => {
      const copies = new CopyRepository(db.db);
      const audit = new AuditLog(db.db);
      const found = copies.getByPublicCode(code);
      if (!found) throw new InputError('copy-not-found', `no certified copy with code ${code}`);
      // Audited as the HTTP annulment is (copies.annul), refusals included.
      const row = { actorKind: 'cli', actorId: user, tenantId: found.tenantId, action: 'copies.annul', object: `copy:${found.id}` } as const;
      let annulled;
      try {
        annulled = copies.annulCopy(found.id, { ...decision, actor: `cli:${user}` });
      } catch (err) {
        audit.append({ ...row, outcome: 'rejected', details: { decisionNumber: decision.decisionNumber, error: err instanceof Error ? err.message : String(err) } });
        throw err;
      }
      audit.append({ ...row, outcome: 'success', details: { number: annulled.number, decisionNumber: decision.decisionNumber, decisionDate: annulled.annulment?.decisionDate } }, { durable: true });
      return annulled;
    });
    io.out(`copy ${rec.number} (${rec.volumeLabel}${rec.registerSuffix}) annulled\n`);
    return 0;
  },
};

export const registryVerify: Command = {
  path: ['registry', 'verify'],
  summary: 'check the hash chain of register events, every entry against its events and every volume for gaps',
  usage: '[--files] [--expect-head ID:SHA256] [--backups DIR] [--json]',
  options: {
    files: [{ type: 'boolean' }, "also hash every issued copy's stored PDF against its entry, and list stored PDFs no entry names"],
    'expect-head': [{ type: 'string' }, 'a chain head recorded earlier (ID:SHA256, as printed by verify or a backup manifest) that must still be in the chain'],
    backups: [{ type: 'string' }, "a backup directory: every head its manifests recorded must still be in the chain"],
    json: [{ type: 'boolean' }, 'print the full report as JSON'],
  },
  async run(values, _p, io) {
    const config = loadConfig();
    const anchors: Array<{ id: number; hash: string }> = [];
    if (typeof values['expect-head'] === 'string') {
      const m = /^(\d+):([0-9a-f]{64})$/.exec(values['expect-head']);
      if (!m) throw new InputError('invalid-parameters', '--expect-head must be ID:SHA256 (the event id and its 64 hex digit hash)');
      anchors.push({ id: Number(m[1]), hash: m[2]! });
    }
    if (typeof values.backups === 'string') anchors.push(...(await backupAnchors(values.backups)));
    const db = openRegister();
    let report: ChainReport;
    let store: StoreCheck | undefined;
    try {
      report = new CopyRepository(db.db).verifyChain(anchors);
      if (values.files === true) store = await checkCopyStore(db.db, config.copyStoreDir);
    } finally {
      db.close();
    }
    const ok = report.ok && (store?.problems.length ?? 0) === 0;
    if (values.json === true) io.out(JSON.stringify(store ? { ...report, store } : report, null, 2) + '\n');
    else {
      io.out(
        report.ok
          ? `registry chain OK: ${report.checked} events checked${anchors.length > 0 ? `, ${anchors.length} anchored head(s) found` : ''}${report.head ? `; head ${report.head.id}:${report.head.hash}` : ''}\n`
          : `registry chain BROKEN: ${JSON.stringify(report.firstBad)}\n`,
      );
      if (store) {
        io.out(`stored copies: ${store.checked} checked, ${store.problems.length} missing or altered\n`);
        for (const p of store.problems) io.out(`  ${p.problem.toUpperCase()} ${p.fileKey} (entry ${p.id}, code ${p.publicCode})\n`);
        if (store.unregistered.length > 0) {
          io.out(`stored PDFs no issued entry names (look at them; the sweeper sets aside those of voided numbers): ${store.unregistered.length}\n`);
          for (const f of store.unregistered) io.out(`  ${f}\n`);
        }
        if (store.setAside.length > 0) io.out(`finished PDFs set aside with their voided numbers: ${store.setAside.length} (under .voided/)\n`);
      }
    }
    return ok ? 0 : 1;
  },
};

export const registryBackup: Command = {
  path: ['registry', 'backup'],
  summary: 'copy the register (an online snapshot) and every issued copy into a backup directory, verified',
  usage: '--to DIR [--json]',
  options: {
    to: [{ type: 'string' }, 'backup directory; repeated backups into it copy only the new copies'],
    json: [{ type: 'boolean' }, 'print the report as JSON'],
  },
  async run(values, _p, io) {
    const to = path.resolve(required(values, 'to'));
    const config = loadConfig();
    // Neither inside the other: a backup in the store would list itself as unregistered copies, and a
    // store inside the backup would count every copy as already backed up.
    const overlaps = (a: string, b: string) => {
      const rel = path.relative(path.resolve(a), path.resolve(b));
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    };
    for (const dir of [config.dataDir, config.copyStoreDir]) {
      if (overlaps(to, dir) || overlaps(dir, to)) throw new InputError('invalid-parameters', `--to must be outside ${dir}, and not contain it`);
    }
    const db = openRegister();
    let report: BackupReport;
    try {
      report = await backupRegistry(db.db, config.copyStoreDir, to);
      new AuditLog(db.db).append({
        actorKind: 'cli',
        actorId: process.env.USER ?? 'local',
        tenantId: null,
        action: 'registry.backup',
        object: path.basename(report.snapshot),
        outcome: report.ok ? 'success' : 'error',
        details: { dir: to, entries: report.files.entries, copied: report.files.copied, problems: report.problems.length, chainOk: report.chain.ok },
      });
    } finally {
      db.close();
    }
    if (values.json === true) io.out(JSON.stringify(report, null, 2) + '\n');
    else {
      const f = report.files;
      io.out(`snapshot ${report.snapshot} (${report.database.bytes} bytes, sha256 ${report.database.sha256})\n`);
      io.out(report.chain.ok ? `chain OK: ${report.chain.checked} events, head ${report.chain.head?.hash ?? '-'}\n` : `chain BROKEN in the snapshot: ${JSON.stringify(report.chain.firstBad)}\n`);
      io.out(`copies: ${f.entries} issued, ${f.copied} copied (${f.bytesCopied} bytes), ${f.alreadyPresent} already in the backup\n`);
      for (const p of report.problems) io.out(`  ${p.problem.toUpperCase()} in the store, not backed up: ${p.fileKey} (entry ${p.id})\n`);
      io.out(`manifest ${report.manifest}\n${report.ok ? 'backup OK' : 'backup INCOMPLETE: see above'}\n`);
    }
    return report.ok ? 0 : 1;
  },
};
