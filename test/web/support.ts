/** Headless Chromium for the web-page tests: Debian's chromium driven by playwright-core. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEV_PATHS } from '../support/hsm.ts';

export const ARTIFACTS = path.join(DEV_PATHS.root, 'test-artifacts', 'web');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // playwright gives the browser a new empty profile (--user-data-dir) of its own for every launch.
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core inside the page. It is evaluated through the DevTools protocol rather than added as
 * a <script>, so the page keeps its real Content-Security-Policy while being checked.
 */
export async function axeViolations(page: Page, artifactName?: string): Promise<AxeViolation[]> {
  const source = readFileSync(path.join(DEV_PATHS.root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  // Every violation, minor ones included, kept for people to read next to the screenshots.
  if (artifactName) writeFileSync(path.join(ARTIFACTS, `axe-${artifactName}.json`), JSON.stringify(violations, null, 2));
  return violations;
}

export const seriousOrWorse = (vs: AxeViolation[]): AxeViolation[] => vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');

/** A browser with one page, and the errors its console reported (CSP violations among them). */
export interface BrowserPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  consoleErrors: string[];
}

export async function openBrowserPage(viewport = { width: 1280, height: 800 }): Promise<BrowserPage> {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  return { browser, context, page, consoleErrors };
}
