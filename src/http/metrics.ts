/**
 * Prometheus metrics (text exposition format) on a listener of their own — by default
 * 127.0.0.1:9464 — so they are never reachable through the public API port.
 *   chungthuc_http_requests_total{method,route,status}
 *   chungthuc_http_request_duration_seconds{method,route}      (histogram)
 *   chungthuc_hsm_sign_duration_seconds{key}                   (histogram)
 *   chungthuc_hsm_sign_errors_total{key,code}
 *   chungthuc_certify_step_duration_seconds{step}              (histogram, successful certifications)
 *   chungthuc_registry_copies{status}, chungthuc_registry_tenants, chungthuc_api_keys_active,
 *   chungthuc_audit_entries                                    (gauges, read at scrape time)
 * The route label is the catalogued path template (`/v/{code}`), or `unmatched`, so label
 * cardinality stays bounded whatever clients request.
 */
import http from 'node:http';
import { bind } from './server.ts';
import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AppError } from '../errors.ts';
import type { RegistrySize } from '../registry/index.ts';
import type { Signer } from '../signers/Signer.ts';
import type { AppState } from './middleware.ts';

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly signLatency: Histogram<'key'>;
  private readonly signErrors: Counter<'key' | 'code'>;
  private readonly certifySteps: Histogram<'step'>;

  constructor(registrySize: () => RegistrySize) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'chungthuc_' });
    this.requests = new Counter({ name: 'chungthuc_http_requests_total', help: 'HTTP requests answered, by catalogued route and status', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({
      name: 'chungthuc_http_request_duration_seconds',
      help: 'time to answer HTTP requests (until the handler returns; streamed bodies continue after)',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.signLatency = new Histogram({ name: 'chungthuc_hsm_sign_duration_seconds', help: 'HSM signature operations', labelNames: ['key'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
    this.signErrors = new Counter({ name: 'chungthuc_hsm_sign_errors_total', help: 'failed HSM signature operations', labelNames: ['key', 'code'], registers });
    this.certifySteps = new Histogram({
      name: 'chungthuc_certify_step_duration_seconds',
      help: 'time of each step of a successful certification (intake, reserve, stamp, certifier-signature, seal-signature, validation-data, store, register)',
      labelNames: ['step'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    // Gauges read the database at scrape time (cheap counts), so they are never stale.
    new Gauge({
      name: 'chungthuc_registry_copies',
      help: 'register entries by status',
      labelNames: ['status'],
      registers,
      collect() {
        const size = registrySize();
        for (const status of ['reserved', 'valid', 'annulled', 'voided']) this.set({ status }, size.copiesByStatus[status] ?? 0);
      },
    });
    new Gauge({ name: 'chungthuc_registry_tenants', help: 'tenants', registers, collect() { this.set(registrySize().tenants); } });
    new Gauge({ name: 'chungthuc_api_keys_active', help: 'API keys not revoked', registers, collect() { this.set(registrySize().activeApiKeys); } });
    new Gauge({ name: 'chungthuc_audit_entries', help: 'audit log entries', registers, collect() { this.set(registrySize().auditEntries); } });
  }

  /** Counts and times every request (place it outside the error edge to see the final status). */
  middleware(): Middleware<AppState> {
    return async (ctx, next) => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        this.observeRequest(ctx.method, ctx.state.operation?.path ?? 'unmatched', ctx.status, started);
      }
    };
  }

  /** Counts and times one answered request (`started`: process.hrtime.bigint() when it came in). */
  observeRequest(method: string, route: string, status: number, started: bigint): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** certifyCopy's `onStep`: where certifications spend their time, step by step. */
  observeCertifyStep(step: string, seconds: number): void {
    this.certifySteps.observe({ step }, seconds);
  }

  /** Wraps a signer lookup so every HSM signature is timed and its failures counted. */
  instrumentSigners(getSigner: (label: string) => Promise<Signer>): (label: string) => Promise<Signer> {
    return async (label) => {
      const signer = await getSigner(label);
      const metrics = this;
      return {
        get key() {
          return signer.key;
        },
        get certificate() {
          return signer.certificate;
        },
        async sign(digest, digestAlgorithm, scheme) {
          const stop = metrics.signLatency.startTimer({ key: label });
          try {
            return await signer.sign(digest, digestAlgorithm, scheme);
          } catch (err) {
            metrics.signErrors.inc({ key: label, code: err instanceof AppError ? err.code : 'unexpected' });
            throw err;
          } finally {
            stop();
          }
        },
      };
    };
  }
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves GET /metrics (and nothing else) on its own host:port. */
export async function listenMetrics(metrics: ServiceMetrics, opts: { port: number; host: string }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  const { url } = await bind(server, opts.port, opts.host);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
