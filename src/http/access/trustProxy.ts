/**
 * The client's address behind trusted reverse proxies (TRUST_PROXY). Koa's own `proxy` mode would
 * take the left-most X-Forwarded-For entry from ANY peer — an address any client can write. Here the
 * header is read only when the immediate peer (the socket) is a trusted proxy, and then from the
 * right: each hop appends the address it saw, so the first entry, walking leftwards, that is not a
 * trusted proxy is the real client (RFC 7239 §5.2 discusses the same chain for `Forwarded: for=`).
 * The result replaces `ctx.request.ip` for everything after (access checks, audit, rate limits).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { AppState } from '../middleware.ts';

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) → `192.0.2.1`. */
export function clientAddress(ip: string): string {
  if (ip.length < 8 || ip.charCodeAt(0) !== 58) return ip; // not "::ffff:…": nothing to strip
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/**
 * The key a per-client limit counts under: an IPv4 address itself, an IPv6 address by its /64 (one
 * site's or one subscriber's prefix: RFC 6177, RFC 7421), so a client cannot get a fresh bucket per
 * request by rotating through the addresses it holds. Anything else (a caller id) is kept as it is.
 */
export function limitKey(key: string): string {
  if (!key.includes(':') || !isIPv6(key)) return key;
  const [head = '', tail] = key.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** Dotted-quad IPv4 → 32-bit number, or undefined when `s` is not one (no leading zeros, as net.isIPv4). */
function ipv4Value(s: string): number | undefined {
  let value = 0;
  let parts = 0;
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i < s.length && s.charCodeAt(i) !== 46) continue;
    const len = i - start;
    if (len < 1 || len > 3 || parts === 4) return undefined;
    let n = 0;
    for (let j = start; j < i; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return undefined;
      n = n * 10 + d;
    }
    if (n > 255 || (len > 1 && s.charCodeAt(start) === 48)) return undefined;
    value = value * 256 + n;
    parts++;
    start = i + 1;
  }
  return parts === 4 ? value : undefined;
}

/**
 * A matcher for `loopback` and CIDR blocks (already checked by the configuration). Every request
 * asks it about its peer and each X-Forwarded-For hop: IPv4 is matched on numbers, IPv6 through
 * node's BlockList.
 */
export function trustedProxies(entries: readonly string[]): (ip: string) => boolean {
  const v4: Array<{ net: number; mask: number }> = [];
  const v6 = new BlockList();
  const addV4 = (addr: string, bits: number) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    v4.push({ net: (ipv4Value(addr)! & mask) >>> 0, mask });
  };
  for (const e of entries) {
    if (e === 'loopback') {
      addV4('127.0.0.0', 8);
      v6.addAddress('::1', 'ipv6');
      continue;
    }
    const [addr = '', bits] = e.split('/');
    if (isIPv4(addr)) addV4(addr, bits === undefined ? 32 : Number(bits));
    else v6.addSubnet(addr, bits === undefined ? 128 : Number(bits), 'ipv6');
  }
  return (ip) => {
    const a = clientAddress(ip);
    const n = ipv4Value(a);
    if (n !== undefined) return v4.some((b) => ((n & b.mask) >>> 0) === b.net);
    return isIPv6(a) && v6.check(a, 'ipv6');
  };
}

/**
 * One X-Forwarded-For hop as an address: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
 * `[2001:db8::1]` or `[2001:db8::1]:4711` (forms proxies write); undefined for anything else
 * (`unknown`, an obfuscated identifier, garbage).
 */
function hopAddress(raw: string): string | undefined {
  let hop = raw.trim();
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    if (end < 0 || (end + 1 < hop.length && !/^:\d{1,5}$/.test(hop.slice(end + 1)))) return undefined;
    hop = hop.slice(1, end);
    return isIPv6(hop) ? clientAddress(hop) : undefined;
  }
  const port = /^(\d+\.\d+\.\d+\.\d+):\d{1,5}$/.exec(hop);
  if (port) hop = port[1]!;
  hop = clientAddress(hop);
  return ipv4Value(hop) !== undefined || isIPv6(hop) ? hop : undefined;
}

/**
 * The client a trusted proxy could not name (it wrote `unknown` or an obfuscated identifier): the
 * unspecified address, which no API-key CIDR block written for real networks contains and which all
 * such clients share for the limits. Never the proxy's own address, which internal CIDR blocks may allow.
 */
export const UNKNOWN_CLIENT = '0.0.0.0';

/**
 * The client address for a peer and its X-Forwarded-For header, trusting only `trusted` hops. A hop
 * that is not an address stops the walk: the entries left of it were written by someone no trusted
 * proxy vouches for, and the client is UNKNOWN_CLIENT.
 */
export function resolveClient(peer: string, forwardedFor: string, trusted: (ip: string) => boolean): string {
  let client = clientAddress(peer);
  if (!trusted(client) || forwardedFor === '') return client;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    if (hop === undefined) return UNKNOWN_CLIENT;
    client = hop;
    if (!trusted(client)) break;
  }
  return client;
}

/** The client address of a request: its peer, or what trusted proxies say (TRUST_PROXY entries). */
export function clientResolver(trust: readonly string[]): (req: IncomingMessage) => string {
  const trusted = trustedProxies(trust);
  return (req) => {
    const peer = req.socket.remoteAddress ?? '';
    if (trust.length === 0) return clientAddress(peer);
    // Node joins several X-Forwarded-For headers with ", " (an array only in its types).
    const xff = req.headers['x-forwarded-for'];
    return resolveClient(peer, typeof xff === 'string' ? xff : (xff?.join(', ') ?? ''), trusted);
  };
}

export function clientIp(trust: readonly string[]): Middleware<AppState> {
  const clientOf = clientResolver(trust);
  return async (ctx, next) => {
    ctx.request.ip = clientOf(ctx.req);
    await next();
  };
}
