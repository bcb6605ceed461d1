/**
 * `chungthuc certify --batch`: three rows through the real CLI process (real HSM token, OCSP, SQLite),
 * the middle one failing; the batch goes on, reports it, and the register holds only the two copies.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyBatch, parseCsv, readManifest } from '../../src/cli/certifyBatch.ts';
import { HsmError } from '../../src/signers/index.ts';
import { DEV_PATHS } from '../support/hsm.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { fixturePdf } from '../stamp/helpers.ts';

const run = promisify(execFile);
let world: PkiWorld;
let env: NodeJS.ProcessEnv;
const cli = (args: string[]) =>
  run(process.execPath, ['bin/chungthuc.mjs', ...args], { cwd: DEV_PATHS.root, env, encoding: 'utf8' }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

beforeAll(async () => {
  world = await startPkiWorld('batch');
  env = { ...process.env, DATA_DIR: world.svc.dataDir, PUBLIC_BASE_URL: world.svc.url, LOG_LEVEL: 'silent' };
  const r = await cli(['tenant', 'create', '--code', 'TH', '--name', 'UBND phường Hạc Thành']);
  expect(r.code).toBe(0);
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

describe('chungthuc certify --batch', () => {
  it('certifies the good rows, reports the failing one, leaves no record of it, and prints a summary', async () => {
    const tmp = world.tmp;
    writeFileSync(path.join(tmp, 'one.pdf'), await fixturePdf([{ size: [595.2, 841.92], label: 'Giay khai sinh' }]));
    execFileSync('pdftoppm', ['-jpeg', '-r', '100', '-singlefile', path.join(tmp, 'one.pdf'), path.join(tmp, 'three')]);
    writeFileSync(path.join(tmp, 'broken.png'), 'not an image at all');
    writeFileSync(
      path.join(tmp, 'batch.csv'),
      [
        'files,document-type,issuer,requester,original-pages,case-code,output',
        'one.pdf,Giấy khai sinh,"UBND xã Tân Phú, huyện Đông Sơn",Lê Văn Nam,1,H01-0001,khai-sinh.pdf',
        'broken.png,Bằng tốt nghiệp,Trường THPT Lam Sơn,Trần Thị Mai,2,H01-0002,',
        '"three.jpg",Sổ hộ khẩu,Công an phường,"Nguyễn Văn ""Tí""",1,H01-0003,',
        '',
      ].join('\r\n'),
    );
    const out = path.join(tmp, 'out');
    const r = await cli(['certify', '--batch', path.join(tmp, 'batch.csv'), '--out-dir', out, '--tenant', 'TH', '--certifier-title', 'Phó Chủ tịch']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('[1/3] one.pdf …');
    expect(lines.find((l) => l.startsWith('[1/3] ok row 1:'))).toContain('khai-sinh.pdf: số chứng thực 1, quyển số');
    expect(lines.find((l) => l.startsWith('[2/3] '))).toBe('[2/3] broken.png …');
    expect(lines.find((l) => l.startsWith('[2/3] FAILED row 2:'))).toContain('[scan-unsupported-type]');
    expect(lines.find((l) => l.startsWith('[3/3] ok row 3:'))).toContain('03-three.pdf: số chứng thực 2,');
    expect(r.stdout).toMatch(/mã truy cập \(access code, shown once\): \S+/); // each row's access code is printed
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('certified 2 of 3; failed: row 2');

    expect(existsSync(path.join(out, 'khai-sinh.pdf'))).toBe(true);
    expect(existsSync(path.join(out, '03-three.pdf'))).toBe(true);
    expect(existsSync(path.join(out, '02-broken.pdf'))).toBe(false);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', path.join(out, '03-three.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain('Số chứng thực: 2');

    // The failing row left nothing in the register: numbers 1–2, no voided or reserved number.
    const volumes = JSON.parse((await cli(['registry', 'volumes', '--tenant', 'TH', '--json'])).stdout) as { volumes: Array<Record<string, unknown>> };
    expect(volumes.volumes).toHaveLength(1);
    expect(volumes.volumes[0]).toMatchObject({ numbers: '1–2', certified: 2, voided: 0, reserved: 0 });
    expect((await cli(['registry', 'verify'])).stdout).toContain('registry chain OK');
  }, 180_000);

  it('refuses a malformed manifest as a whole, before certifying anything', async () => {
    const bad = path.join(world.tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ files: ['one.pdf'], 'document-type': 'x', issuer: 'y', requester: 'z', 'original-pages': 1, colour: 'red' }]));
    const r = await cli(['certify', '--batch', bad, '--out-dir', path.join(world.tmp, 'o2'), '--tenant', 'TH']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('manifest row 1');
    expect(r.stderr).toContain('[batch-manifest-invalid]');
    expect(r.stdout).toBe('');
    // Two rows naming one output file would overwrite a certified copy with another.
    const twice = path.join(world.tmp, 'twice.json');
    const row = { files: ['one.pdf'], 'document-type': 'x', issuer: 'y', requester: 'z', 'original-pages': 1, output: 'same.pdf' };
    writeFileSync(twice, JSON.stringify([row, { ...row, requester: 'w' }]));
    const t = await cli(['certify', '--batch', twice, '--out-dir', path.join(world.tmp, 'o3'), '--tenant', 'TH']);
    expect([t.code, t.stdout]).toEqual([1, '']);
    expect(t.stderr).toContain('two rows write the same output file same.pdf');
  });
});

describe("a failure that is not the row's, and Ctrl-C", () => {
  const manifest = () => {
    const file = path.join(world.tmp, 'three.json');
    writeFileSync(file, JSON.stringify([{ files: ['a.pdf'] }, { files: ['b.pdf'] }, { files: ['c.pdf'] }]));
    return file;
  };
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
  };

  it('stops at a PIN the token rejects instead of logging in with it once per row (each try counts toward the lockout)', async () => {
    const { io, out } = capture();
    const tried: string[] = [];
    const code = await certifyBatch({ batch: manifest(), 'out-dir': world.tmp }, io, async (_v, files) => {
      tried.push(path.basename(files[0]!));
      throw new HsmError('hsm-pin-incorrect', 'logging in to token "chungthuc-dev": the token rejected the PIN (CKR_PIN_INCORRECT)');
    }, false);
    expect(code).toBe(1);
    expect(tried).toEqual(['a.pdf']);
    const text = out.join('');
    expect(text).toContain('[1/3] FAILED row 1: logging in to token "chungthuc-dev": the token rejected the PIN (CKR_PIN_INCORRECT) [hsm-pin-incorrect]');
    expect(text).toContain('batch stopped: row 1 failed with hsm-pin-incorrect, which every later row would meet');
    expect(text.trimEnd().split('\n').at(-1)).toBe('certified 0 of 3; failed: row 1; not attempted: rows 2–3');
  });

  it('the real command with a wrong PIN: one login attempt, not one per row', async () => {
    writeFileSync(path.join(world.tmp, 'a.pdf'), await fixturePdf([{ size: [595.2, 841.92], label: 'A' }]));
    const csv = path.join(world.tmp, 'pin.csv');
    writeFileSync(csv, ['files,document-type,issuer,requester,original-pages', 'a.pdf,T,I,R,1', 'a.pdf,T,I,R,1', 'a.pdf,T,I,R,1', ''].join('\n'));
    const r = await run(process.execPath, ['bin/chungthuc.mjs', 'certify', '--batch', csv, '--out-dir', path.join(world.tmp, 'pin-out'), '--tenant', 'TH'], {
      cwd: DEV_PATHS.root,
      env: { ...env, PKCS11_PIN: 'wrong-pin' },
      encoding: 'utf8',
    }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout.match(/CKR_PIN_INCORRECT/g)).toHaveLength(1);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('certified 0 of 3; failed: row 1; not attempted: rows 2–3');
  }, 60_000);

  it('SIGINT (Ctrl-C) finishes the row in progress, then stops; the handlers are gone afterwards', async () => {
    const { io, out, err } = capture();
    const listeners = process.listenerCount('SIGINT');
    const done: string[] = [];
    const code = await certifyBatch({ batch: manifest(), 'out-dir': world.tmp }, io, async (_v, files, rowIo) => {
      if (done.length === 0) process.emit('SIGINT', 'SIGINT'); // as a real signal calls its listeners
      done.push(path.basename(files[0]!));
      rowIo.out('certified\n');
      return 0;
    }, false);
    expect(done).toEqual(['a.pdf']);
    expect(code).toBe(1);
    expect(err.join('')).toContain('SIGINT: stopping after the row in progress');
    const text = out.join('');
    expect(text).toContain('[1/3] ok row 1: certified');
    expect(text).toContain('batch stopped: stopped by SIGINT');
    expect(text.trimEnd().split('\n').at(-1)).toBe('certified 1 of 3; not attempted: rows 2–3');
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});

describe('chungthuc annul', () => {
  it('is audited like the HTTP annulment, a refused one too', async () => {
    const scan = path.join(world.tmp, 'annul.pdf');
    writeFileSync(scan, await fixturePdf([{ size: [595.2, 841.92], label: 'Giay khai sinh' }]));
    const made = await cli(['certify', scan, '-o', path.join(world.tmp, 'annul-out.pdf'), '--tenant', 'TH', '--document-type', 'Giấy khai sinh', '--issuer', 'UBND', '--requester', 'A', '--original-pages', '1']);
    expect(made.code).toBe(0);
    const code = /\/v\/([A-Z2-7]+)/.exec(made.stdout)?.[1];
    expect(code).toBeDefined();
    const args = ['annul', code!, '--decision', '12/QĐ-UBND', '--date', '2026-03-01', '--reason', 'cấp sai'];
    expect((await cli(args)).code).toBe(0);
    const again = await cli(args);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[copy-already-annulled]');
    const rows = (await cli(['audit', 'list', '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; outcome: string; actorKind: string; details: Record<string, unknown> })
      .filter((r) => r.action === 'copies.annul');
    expect(rows.map((r) => [r.actorKind, r.outcome])).toEqual([
      ['cli', 'success'],
      ['cli', 'rejected'],
    ]);
    expect(rows[0]!.details).toMatchObject({ decisionNumber: '12/QĐ-UBND', decisionDate: '2026-03-01' });
  }, 120_000);
});

describe('manifest reading', () => {
  it('parses RFC 4180 CSV: quotes, doubled quotes, commas and line breaks in fields', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi""\nthere"\n\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"\nthere'],
    ]);
    expect(() => parseCsv('a,"b')).toThrow(/quoted/);
  });

  it('resolves files against the manifest and splits "|" lists; JSON rows take numbers', () => {
    const dir = world.tmp;
    const file = path.join(dir, 'm.json');
    writeFileSync(file, JSON.stringify([{ files: 'p1.jpg|p2.jpg', 'original-pages': 2, requester: 'A' }, { files: ['/abs/x.pdf'] }]));
    expect(readManifest(file)).toEqual([
      { files: [path.join(dir, 'p1.jpg'), path.join(dir, 'p2.jpg')], values: { 'original-pages': '2', requester: 'A' } },
      { files: ['/abs/x.pdf'], values: {} },
    ]);
  });

  it('on a terminal rewrites one progress line with \\r (rows run by a stand-in for the certify command)', async () => {
    const file = path.join(world.tmp, 'tty.json');
    writeFileSync(file, JSON.stringify([{ files: ['a.pdf'] }, { files: ['b.pdf'] }]));
    const printed: string[] = [];
    const code = await certifyBatch(
      { batch: file, 'out-dir': world.tmp },
      { out: (t) => printed.push(t), err: (t) => printed.push(t) },
      async (_values, files, io) => {
        io.out(`did ${path.basename(files[0]!)}\n`);
        return 0;
      },
      true,
    );
    expect(code).toBe(0);
    expect(printed.join('')).toBe(
      '\r\x1b[2K[1/2] a.pdf …\r\x1b[2K[1/2] ok row 1: did a.pdf\n\r\x1b[2K[2/2] b.pdf …\r\x1b[2K[2/2] ok row 2: did b.pdf\n\ncertified 2 of 2\n',
    );
  });
});
