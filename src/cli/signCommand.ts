/** `chungthuc sign IN.pdf -o OUT.pdf …`: the same use case as POST /api/v1/signatures. */
import { readFileSync } from 'node:fs';
import { signDocument, type PadesLevel } from '../services/signDocument.ts';
import type { DigestAlgorithm, SignatureScheme } from '../signers/Signer.ts';
import { InputError } from '../errors.ts';
import type { Command } from './command.ts';
import { inputOutput, withTrustServices } from './signingContext.ts';

function rectOption(v: unknown): [number, number, number, number] | undefined {
  if (typeof v !== 'string') return undefined;
  const n = v.split(/[\s,]+/).filter(Boolean).map(Number);
  if (n.length !== 4 || n.some((x) => !Number.isFinite(x)) || n[2]! <= n[0]! || n[3]! <= n[1]!) {
    throw new InputError('invalid-parameters', '--rect must be llx,lly,urx,ury with urx > llx and ury > lly');
  }
  return n as [number, number, number, number];
}

function pageOption(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[1-9]\d*$/.test(v)) throw new InputError('invalid-parameters', '--page must be a page number: 1, 2, …');
  return Number(v);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], flag: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new InputError('invalid-parameters', `${flag} must be one of ${allowed.join(', ')}`);
}

export const signCommand: Command = {
  path: ['sign'],
  summary: 'sign a PDF with a key of the HSM (PAdES), writing an incremental update',
  usage: 'IN.pdf -o OUT.pdf [options]',
  operands: true,
  options: {
    output: [{ type: 'string', short: 'o' }, 'output file (required; never the input)'],
    key: [{ type: 'string', short: 'k' }, 'HSM key label (default: seal)'],
    level: [{ type: 'string' }, 'PAdES level: B-B (default), B-T, B-LT or B-LTA'],
    field: [{ type: 'string' }, 'sign this empty field, or name the new one'],
    page: [{ type: 'string' }, 'page of a new visible field (1-based, default 1)'],
    rect: [{ type: 'string' }, 'visible rectangle llx,lly,urx,ury in points (absent: invisible)'],
    image: [{ type: 'string' }, 'PNG or JPEG drawn in the visible signature (e.g. the seal)'],
    reason: [{ type: 'string' }, 'reason (/Reason), e.g. "Chứng thực bản sao"'],
    location: [{ type: 'string' }, 'location (/Location), e.g. "Thanh Hóa"'],
    certify: [{ type: 'string' }, 'certification signature with DocMDP P=1|2|3 (first signature only)'],
    digest: [{ type: 'string' }, 'SHA-256 (default), SHA-384 or SHA-512'],
    scheme: [{ type: 'string' }, 'RSASSA-PKCS1-v1_5, RSASSA-PSS or ECDSA (default from the key)'],
    legacy: [{ type: 'boolean' }, 'write adbe.pkcs7.detached instead of ETSI.CAdES.detached'],
  },
  async run(values, positionals, io) {
    const args = inputOutput('sign', values, positionals, io);
    if (!args) return 2;
    const { input, output } = args;
    const certify = values.certify === undefined ? undefined : Number(values.certify);
    if (certify !== undefined && certify !== 1 && certify !== 2 && certify !== 3) {
      throw new InputError('invalid-parameters', '--certify must be 1, 2 or 3');
    }
    const imagePath = typeof values.image === 'string' ? values.image : undefined;
    const imageBytes = imagePath ? new Uint8Array(readFileSync(imagePath)) : undefined;
    const r = await withTrustServices((trust) =>
      signDocument(
        trust.signing,
        { path: input },
        { path: output },
        {
          key: typeof values.key === 'string' ? values.key : 'seal',
          level: oneOf<PadesLevel>(values.level ?? 'B-B', ['B-B', 'B-T', 'B-LT', 'B-LTA'], '--level')!,
          fieldName: typeof values.field === 'string' ? values.field : undefined,
          page: pageOption(values.page),
          rect: rectOption(values.rect),
          image: imageBytes ? { bytes: imageBytes, kind: imageBytes[0] === 0x89 ? 'png' : 'jpeg' } : undefined,
          reason: typeof values.reason === 'string' ? values.reason : undefined,
          location: typeof values.location === 'string' ? values.location : undefined,
          certify,
          digestAlgorithm: oneOf<DigestAlgorithm>(values.digest, ['SHA-256', 'SHA-384', 'SHA-512'], '--digest'),
          scheme: oneOf<SignatureScheme>(values.scheme, ['RSASSA-PKCS1-v1_5', 'RSASSA-PSS', 'ECDSA'], '--scheme'),
          subFilter: values.legacy === true ? 'adbe.pkcs7.detached' : 'ETSI.CAdES.detached',
        },
      ),
    );
    io.out(`${output}: signed field "${r.fieldName}" with key "${r.key}" (${r.level}), ${r.length} bytes\n`);
    return 0;
  },
};
