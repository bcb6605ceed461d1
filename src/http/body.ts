/** Bounded body readers: never buffer more than the route's limit, whatever Content-Length claims. */
import type { Context } from 'koa';
import { HttpError } from './problem.ts';

export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.set('Connection', 'close');
      throw new HttpError('body-too-large', `the request body exceeds the limit of ${limit} bytes`, {
        status: 413,
        details: { limit },
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  if (!ctx.is('application/json', '+json')) {
    throw new HttpError('unsupported-media-type', 'send the parameters as application/json', { status: 415 });
  }
  const raw = await readBody(ctx, limit);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new HttpError('invalid-json', 'the request body is not valid JSON', { status: 400, cause });
  }
}
