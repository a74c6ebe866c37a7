import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatFor, type Exposition, type ExpositionFormat } from './exposition.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** Renders `/metrics`: one node's registry (`createExposition`), or a cluster's aggregate. */
  expose: (format: ExpositionFormat) => Promise<Exposition>;
  /** Whether the node can take calls; a rejection counts as not ready. */
  ready: () => Promise<boolean>;
  /**
   * Whether a request's `Authorization` header may read `/metrics`; unset, anyone who reaches the
   * port may. The probes stay open: they say only whether the process answers and takes calls.
   */
  authorize?: (authorization: string | undefined) => boolean;
}

export interface MetricsServer {
  url: string;
  /** Settles when the listener fails after it started (an `error` event); never after `close`. */
  failed: Promise<Error>;
  close(): Promise<void>;
}

/**
 * `/metrics` (Prometheus text or OpenMetrics by the Accept header), `/healthz` (the process
 * answers) and `/readyz` (the node can take calls), for Prometheus and an orchestrator's probes.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { expose } = options;

  const respond = (res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req.url);
    // `GET //` or an absolute-form target with a bad host is not a URL (the telephony port answers it the same way).
    if (path === undefined) return respond(res, 400, 'bad request target: not a URL path\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return respond(res, 405, 'method not allowed\n');
    if (path === '/metrics') {
      if (options.authorize && !options.authorize(req.headers.authorization)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        return respond(res, 401, 'unauthorized: send Authorization: Bearer <server.metricsToken>\n');
      }
      const { contentType, body } = await expose(formatFor(req.headers.accept));
      return respond(res, 200, body, contentType);
    }
    if (path === '/healthz') return respond(res, 200, 'ok\n');
    if (path === '/readyz') {
      const ready = await options.ready().catch(() => false);
      return respond(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n');
    }
    return respond(res, 404, 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) respond(res, 500, `${error instanceof Error ? error.message : String(error)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing = false;
  const failed = new Promise<Error>((resolve) => server.on('error', (error) => !closing && resolve(error)));
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    failed,
    close: () => new Promise<void>((resolve, reject) => {
      closing = true;
      server.closeIdleConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://metrics').pathname;
  } catch {
    return undefined;
  }
}
