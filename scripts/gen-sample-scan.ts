/**
 * Makes fixtures/sample-scan-1.jpg and -2.jpg: a small two-page "scan" of a made-up Vietnamese
 * paper (marked MẪU — sample) for trying the console's certification at first start. The pages are
 * drawn as HTML by headless Chromium (system fonts with Vietnamese glyphs), saved as greyish JPEGs,
 * and given a JFIF density of 100 dpi so the scan intake gets A4 paper size.
 *
 *   node --import tsx scripts/gen-sample-scan.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const DPI = 100;
/** A4 at DPI (210 × 297 mm). */
const WIDTH = Math.round((210 / 25.4) * DPI);
const HEIGHT = Math.round((297 / 25.4) * DPI);

const style = `body{margin:0;width:${WIDTH}px;height:${HEIGHT}px;background:#f3f1ea;color:#1c1c1c;font-family:"DejaVu Serif","Noto Serif",serif;font-size:15px;line-height:1.55}
.page{padding:60px 70px}.c{text-align:center}.b{font-weight:bold}.h{font-size:22px;margin:26px 0 6px}.r{display:flex;justify-content:space-between}
.mark{position:absolute;top:420px;left:160px;font-size:120px;color:rgba(180,40,40,.15);transform:rotate(-30deg)}
dl{display:grid;grid-template-columns:230px 1fr;gap:6px 10px}dt{color:#444}dd{margin:0;border-bottom:1px dotted #777}`;

const page1 = `<div class="page"><div class="r"><div class="c b">UBND PHƯỜNG HẠC THÀNH<br>TỈNH THANH HÓA</div><div class="c b">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br><u>Độc lập - Tự do - Hạnh phúc</u></div></div>
<p class="c h b">GIẤY KHAI SINH (BẢN MẪU)</p><p class="c">Số: 123/2026 — Quyển số: 01/2026</p>
<dl><dt>Họ, chữ đệm, tên</dt><dd>NGUYỄN THỊ MẪU</dd><dt>Ngày, tháng, năm sinh</dt><dd>01/01/2026 — Ngày Một tháng Một năm Hai nghìn không trăm hai mươi sáu</dd>
<dt>Giới tính</dt><dd>Nữ</dd><dt>Dân tộc</dt><dd>Kinh</dd><dt>Quốc tịch</dt><dd>Việt Nam</dd><dt>Nơi sinh</dt><dd>Bệnh viện Đa khoa tỉnh Thanh Hóa</dd>
<dt>Quê quán</dt><dd>Phường Hạc Thành, tỉnh Thanh Hóa</dd><dt>Họ, chữ đệm, tên người mẹ</dt><dd>TRẦN THỊ MẸ</dd><dt>Họ, chữ đệm, tên người cha</dt><dd>NGUYỄN VĂN CHA</dd></dl>
<p>Tài liệu mẫu dùng để thử nghiệm chứng thực bản sao điện tử. Không có giá trị pháp lý.</p></div><div class="mark">MẪU</div>`;

const page2 = `<div class="page"><p class="c h b">TRANG 2 — GHI CHÚ (BẢN MẪU)</p>
<p>Người đi đăng ký khai sinh: Nguyễn Văn Cha. Quan hệ với người được khai sinh: cha.</p>
<p>Đăng ký tại: Ủy ban nhân dân phường Hạc Thành, tỉnh Thanh Hóa, ngày 05 tháng 01 năm 2026.</p>
<div class="r" style="margin-top:60px"><div class="c">Người đi đăng ký<br><i>(ký, ghi rõ họ tên)</i><br><br><br>Nguyễn Văn Cha</div>
<div class="c">CHỦ TỊCH<br><i>(ký, ghi rõ họ tên, đóng dấu)</i><br><br><br>Lê Văn Chủ Tịch</div></div>
<p style="margin-top:80px">Ghi chú: khoảng trống cuối trang dành cho lời chứng của người chứng thực.</p></div><div class="mark">MẪU</div>`;

/** Sets the JFIF APP0 density (ITU-T T.871 §10.1): units = 1 (dots per inch), X and Y = `dpi`. */
export function withJfifDensity(jpeg: Buffer, dpi: number): Buffer {
  const app0 = jpeg.indexOf(Buffer.from([0xff, 0xe0]), 2);
  if (app0 !== 2 || jpeg.toString('latin1', 6, 11) !== 'JFIF\0') {
    // No JFIF segment: insert one right after SOI.
    const seg = Buffer.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 1, dpi >> 8, dpi & 255, dpi >> 8, dpi & 255, 0, 0]);
    return Buffer.concat([jpeg.subarray(0, 2), seg, jpeg.subarray(2)]);
  }
  const out = Buffer.from(jpeg);
  out[13] = 1;
  out.writeUInt16BE(dpi, 14);
  out.writeUInt16BE(dpi, 16);
  return out;
}

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 1 });
    for (const [i, html] of [page1, page2].entries()) {
      await page.setContent(`<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>${style}</style></head><body>${html}</body></html>`);
      const jpeg = await page.screenshot({ type: 'jpeg', quality: 45 });
      const file = path.join(OUT, `sample-scan-${i + 1}.jpg`);
      writeFileSync(file, withJfifDensity(jpeg, DPI));
      process.stdout.write(`${file}: ${jpeg.length} bytes\n`);
    }
  } finally {
    await browser.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
