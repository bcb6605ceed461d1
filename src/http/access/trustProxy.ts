/**
 * The client's address behind trusted reverse proxies (TRUST_PROXY). Koa's own `proxy` mode would
 * take the left-most X-Forwarded-For entry from ANY peer — an address any client can write. Here the
 * header is read only when the immediate peer (the socket) is a trusted proxy, and then from the
 * right: each hop appends the address it saw, so the first entry, walking leftwards, that is not a
 * trusted proxy is the real client (RFC 7239 §5.2 discusses the same chain for `Forwarded: for=`).
 * The result replaces `ctx.request.ip` for everything after (access checks, audit, rate limits).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Middleware } from 'koa';
import type { AppState } from '../middleware.ts';

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) → `192.0.2.1`. */
export function clientAddress(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** A matcher for `loopback` and CIDR blocks (already checked by the configuration). */
export function trustedProxies(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const e of entries) {
    if (e === 'loopback') {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      continue;
    }
    const [addr = '', bits] = e.split('/');
    const family = isIPv4(addr) ? 'ipv4' : 'ipv6';
    list.addSubnet(addr, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
  }
  return (ip) => {
    const a = clientAddress(ip);
    const family = isIPv4(a) ? 'ipv4' : isIPv6(a) ? 'ipv6' : undefined;
    return family !== undefined && list.check(a, family);
  };
}

/** The client address for a peer and its X-Forwarded-For header, trusting only `trusted` hops. */
export function resolveClient(peer: string, forwardedFor: string, trusted: (ip: string) => boolean): string {
  let client = clientAddress(peer);
  if (!trusted(client) || forwardedFor === '') return client;
  const hops = forwardedFor.split(',').map((s) => clientAddress(s.trim())).filter((s) => isIPv4(s) || isIPv6(s));
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i]!;
    if (!trusted(client)) break;
  }
  return client;
}

export function clientIp(trust: readonly string[]): Middleware<AppState> {
  const trusted = trustedProxies(trust);
  return async (ctx, next) => {
    const peer = ctx.req.socket.remoteAddress ?? '';
    ctx.request.ip = trust.length === 0 ? clientAddress(peer) : resolveClient(peer, ctx.get('x-forwarded-for'), trusted);
    await next();
  };
}
