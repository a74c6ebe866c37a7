import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../log.js';
import { createCallTracing, type CallTracing } from './call-tracing.js';

export interface RunningTracing extends CallTracing {
  /** Exports what is still buffered, then stops; the process's tracing globals are released. */
  shutdown(): Promise<void>;
}

/** True when the standard variables ask for traces: an OTLP endpoint, and neither the SDK nor the exporter turned off. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * The OpenTelemetry Node SDK with the OTLP/protobuf exporter, configured by the standard `OTEL_*`
 * variables (endpoint, headers, timeout, `OTEL_BSP_*` batching, `OTEL_TRACES_SAMPLER`,
 * `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`). `undefined` when no endpoint is set: then no
 * provider is registered and the API's calls in the code are no-ops.
 */
export function startTracing(env: NodeJS.ProcessEnv, log: Logger): RunningTracing | undefined {
  if (!tracingRequested(env)) return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'aybiza' }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The W3C trace-context propagator and the async context manager, so webhooks carry `traceparent`.
  provider.register();
  log.info({ event: 'tracing.started', endpoint: originOf(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '') });
  return {
    ...createCallTracing(provider.getTracer('aybiza')),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Only the endpoint's origin is logged: its path or query may carry a token. */
function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '(not a URL)';
  }
}
