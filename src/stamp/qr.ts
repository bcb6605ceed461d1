/**
 * The verification QR code (ISO/IEC 18004) drawn as vector rectangles, so that it stays sharp at any
 * rendering resolution and adds no image to the copy. It holds only the verification URL, which
 * must be HTTPS; nothing personal goes into it (docs/domain.md, "Verification page").
 */
import QRCode from 'qrcode';
import { StampError } from './errors.ts';

/** ISO/IEC 18004 §6.3.8: a quiet zone of four modules on every side. */
export const QR_QUIET_ZONE = 4;

export interface QrMatrix {
  size: number;
  dark(row: number, col: number): boolean;
}

export function qrMatrix(url: string): QrMatrix {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new StampError('stamp-invalid-spec', `verification URL ${JSON.stringify(url)} is not a URL`, { cause });
  }
  // Plain http only for a loopback host: a developer's machine has no certificate; anything a
  // citizen scans must be https.
  const loopback = parsed.hostname === 'localhost' || parsed.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  const schemeOk = parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback);
  if (!schemeOk || parsed.username !== '' || parsed.password !== '') {
    throw new StampError('stamp-invalid-spec', 'the verification URL must be https:// without credentials (http only on a loopback host)');
  }
  // Error correction M (15 % of codewords recoverable): survives a printed copy's wear and a stamp
  // overlapping a corner, without growing the symbol as much as Q or H.
  const code = QRCode.create(url, { errorCorrectionLevel: 'M' });
  const { size } = code.modules;
  return { size, dark: (row, col) => code.modules.get(row, col) === 1 };
}

/**
 * Content-stream operators painting the symbol with its lower-left quiet-zone corner at (x, y):
 * a white square for symbol and quiet zone, then one rectangle per horizontal run of dark modules.
 */
export function qrOperators(qr: QrMatrix, x: number, y: number, module: number): string {
  const side = (qr.size + 2 * QR_QUIET_ZONE) * module;
  const ops = [`q 1 g ${f(x)} ${f(y)} ${f(side)} ${f(side)} re f 0 g`];
  for (let row = 0; row < qr.size; row++) {
    // Row 0 is the top of the symbol; PDF's y axis points up.
    const top = y + side - (QR_QUIET_ZONE + row) * module;
    let col = 0;
    while (col < qr.size) {
      if (!qr.dark(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < qr.size && qr.dark(row, col)) col++;
      ops.push(`${f(x + (QR_QUIET_ZONE + start) * module)} ${f(top - module)} ${f((col - start) * module)} ${f(module)} re`);
    }
  }
  ops.push('f Q');
  return ops.join('\n');
}

function f(n: number): string {
  return (Math.round(n * 1000) / 1000).toString();
}
