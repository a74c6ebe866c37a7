import { isLoopbackHost, type AybizaConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Exposition, ExpositionFormat } from '../metrics/exposition.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { isAuthorized } from '../telephony/auth.js';
import { SERVICE_BACKOFF_MS, type ChildSpec } from './child.js';
import type { Provided } from './provided.js';

/**
 * `/metrics`, `/healthz` and `/readyz` as a supervised child, on `server.metricsHost` with the
 * server's token rules; a restart listens on the port the first start got. What it renders and
 * when it is ready are the caller's: one node's registry, or a `serve --workers` primary's aggregate.
 */
export function metricsServerChild(
  config: AybizaConfig,
  log: Logger,
  cell: Provided<MetricsServer>,
  serves: { expose: (format: ExpositionFormat) => Promise<Exposition>; ready: () => Promise<boolean> },
): ChildSpec {
  let port = config.server.metricsPort;
  return {
    id: 'metrics',
    restart: 'permanent',
    shutdownMs: 2_000,
    backoffMs: SERVICE_BACKOFF_MS,
    start: async () => {
      const { metricsHost, metricsToken } = config.server;
      // Beyond loopback without a token the schema refused to start unless this was asked for.
      if (!metricsToken && !isLoopbackHost(metricsHost)) {
        log.warn({ event: 'metrics.unauthenticated', host: metricsHost }, `/metrics on ${metricsHost} answers anyone who can reach it (server.metricsUnauthenticated)`);
      }
      const server = await startMetricsServer({
        host: metricsHost,
        port,
        ...serves,
        authorize: metricsToken ? (authorization) => isAuthorized(authorization, null, [metricsToken]) : undefined,
      });
      port = Number(new URL(server.url).port);
      return cell.provide(server, () => server.close(), server.failed);
    },
  };
}
