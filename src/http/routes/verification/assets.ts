/**
 * The pages' own static files (src/http/web): read once, named by a content hash so they can be
 * cached for a year ("immutable", RFC 8246) and a new release still reaches every browser at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface Asset {
  readonly url: string;
  readonly type: string;
  readonly body: Buffer;
}

export interface WebAssets {
  readonly css: Asset;
  readonly js: Asset;
  byUrl(url: string): Asset | undefined;
}

/** One file of src/http/web, served under a content-hashed URL (also used by the console pages). */
export function loadAsset(file: string, ext: 'css' | 'js', type: string): Asset {
  const body = readFileSync(new URL(`../../web/${file}`, import.meta.url));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { url: `/assets/${file.replace(/\.[a-z]+$/, '')}.${hash}.${ext}`, type, body };
}

export function loadWebAssets(): WebAssets {
  const css = loadAsset('verify.css', 'css', 'text/css; charset=utf-8');
  const js = loadAsset('verify.js', 'js', 'text/javascript; charset=utf-8');
  const all = new Map([css, js].map((a) => [a.url, a]));
  return { css, js, byUrl: (url) => all.get(url) };
}
