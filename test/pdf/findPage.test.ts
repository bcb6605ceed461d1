/** findPage (descent by /Count) must agree with the full page walk, and fall back when counts lie. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { PdfDocument, PdfError } from '../../src/pdf/index.ts';
import { findPage } from '../../src/pdf/pageTree.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'findpage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const CORPUS = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

function agree(file: string): number {
  let doc: PdfDocument;
  try {
    doc = PdfDocument.open(file);
  } catch (e) {
    if (e instanceof PdfError) return 0;
    throw e;
  }
  try {
    let pages;
    try {
      pages = doc.pages;
    } catch (e) {
      if (e instanceof PdfError) return 0;
      throw e;
    }
    for (const p of pages) {
      const fast = findPage(doc, p.index);
      // Either the descent finds the same page with the same inherited attributes, or it declines.
      if (fast) {
        expect(fast.ref?.num).toBe(p.ref?.num);
        expect(fast.rotate).toBe(p.rotate);
        expect(JSON.stringify(fast.mediaBox)).toBe(JSON.stringify(p.mediaBox));
      }
      expect(doc.findPage(p.index)?.ref?.num).toBe(p.ref?.num);
    }
    expect(findPage(doc, pages.length)).toBeUndefined();
    return pages.length;
  } finally {
    doc.close();
  }
}

describe('findPage', () => {
  it('agrees with the walk on the generated fixtures (nested trees, inherited attributes)', () => {
    const fx = generateFixtures(path.join(tmp, 'fx'));
    let total = 0;
    for (const f of [fx.classic, fx.forms, fx.objstm, fx.linearized, fx.hybrid]) total += agree(f);
    expect(total).toBeGreaterThan(5);
  });

  it('agrees with the walk, or declines, on every corpus file', () => {
    let pages = 0;
    for (const dir of readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'LICENSES')) {
      for (const f of readdirSync(path.join(CORPUS, dir.name)).filter((n) => n.endsWith('.pdf'))) pages += agree(path.join(CORPUS, dir.name, f));
    }
    expect(pages).toBeGreaterThan(50);
  });
});
