/** Helpers of the console and report page browser tests. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DEV_PATHS } from '../support/hsm.ts';

/** Screenshots of every console page, kept for people to look at (test-artifacts/screenshots). */
export const SCREENSHOTS = path.join(DEV_PATHS.root, 'test-artifacts', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

/** Drops a file on `selector` with a real DataTransfer, as the browser builds it when a file is dragged in. */
export async function dropFile(page: Page, selector: string, bytes: Buffer, name: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ([b64, fileName]) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], fileName, { type: 'application/pdf' }));
      return dt;
    },
    [bytes.toString('base64'), name] as const,
  );
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}
