/**
 * The listening server and its graceful shutdown: stop accepting, let in-flight requests finish
 * (bounded by a timeout), then destroy what is left.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface RunningServer {
  readonly server: http.Server;
  /** Base URL the server listens on, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  /** Stop accepting; resolve once in-flight requests finished or `timeoutMs` elapsed. */
  close(timeoutMs: number): Promise<void>;
}

export async function listen(
  app: Koa<any> & { readonly fastPath?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean },
  opts: { port: number; host: string; requestTimeoutMs: number },
): Promise<RunningServer> {
  const callback = app.callback();
  const fast = app.fastPath;
  // The app's fast path (routes/verification/fastLookup.ts) first, Koa for everything it leaves.
  const server = http.createServer(fast ? (req, res) => fast(req, res) || void callback(req, res) : callback);
  // Bound slow clients: whole request (headers + body) and headers alone.
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = Math.min(opts.requestTimeoutMs, 60_000);
  const { url, port } = await bind(server, opts.port, opts.host);
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    url,
    close(timeoutMs) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
        }, timeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // Keep-alive connections with no request in flight would hold close() open.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Listens on host:port (0 = any free port) and tells where, as a URL. */
export async function bind(server: http.Server, port: number, host: string): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return { url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, port: a.port };
}
