import type { AybizaConfig } from '../config/schema.js';
import { redactRedisUrl } from '../memory/redis-keys.js';
import { ChildStartError } from '../runtime/supervisor.js';
import { ToolConnectorUnreachableError } from '../tools/errors.js';
import { portOwner } from './port-owner.js';

/**
 * The one line, cause and fix, for a failure of the node's start that a person can act on, or
 * undefined when it is not one of those (then the caller prints what it has). The supervisor wraps
 * what a child throws, so the causes are searched for the child and the underlying error.
 */
export function explainStartupFailure(error: unknown, config: AybizaConfig): string | undefined {
  let child: string | undefined;
  for (let current = error; current instanceof Error; current = current.cause) {
    // The innermost child is the one that failed; the outer ones are the supervisors around it.
    if (current instanceof ChildStartError) child = current.childId;
    if (current instanceof ToolConnectorUnreachableError) return current.message;
    const { code, port } = current as { code?: string; port?: number };
    if (code === 'EADDRINUSE' && typeof port === 'number') return portInUse(port, child === 'metrics' || (child === undefined && port === config.server.metricsPort));
  }
  if (child === 'memory' && config.memory.hot === 'redis') {
    const url = redactRedisUrl(config.memory.redisUrl);
    return `Redis is required (AYBIZA_HOT_MEMORY=redis) but did not answer at ${url}: start redis-server, set AYBIZA_REDIS_URL to where it runs, or use AYBIZA_HOT_MEMORY=auto (Redis when it answers, else in-process memory)`;
  }
  return undefined;
}

function portInUse(port: number, metrics: boolean): string {
  const owner = portOwner(port);
  const [variable, flag] = metrics ? ['AYBIZA_METRICS_PORT', '--metrics-port'] : ['AYBIZA_PORT', '--port'];
  return `port ${port} is already in use${owner ? ` by ${owner}` : ' by another process'}: stop it, or choose another port with ${variable} (or ${flag})`;
}
