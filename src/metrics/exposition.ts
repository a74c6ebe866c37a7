import { Registry, type OpenMetricsContentType, type PrometheusContentType, type RegistryContentType } from 'prom-client';

export type ExpositionFormat = 'openmetrics' | 'prometheus';

export interface Exposition {
  contentType: string;
  body: string;
}

/** OpenMetrics when the scraper lists it in Accept (Prometheus does when exemplar storage is on). */
export const formatFor = (accept: string | undefined): ExpositionFormat =>
  accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';

/**
 * Renders a registry in either format. prom-client 15 fixes the format per registry, and an
 * OpenMetrics render renames counters in place (`x_total` → `x`, the suffix then added per
 * sample). So renders are serialised, and after each one the registry is put back as it rests:
 * Prometheus text with counters named `_total`, which is what a direct `registry.metrics()` gives.
 */
export function createExposition(metricsRegistry: Registry<OpenMetricsContentType> | Registry<PrometheusContentType>): (format: ExpositionFormat) => Promise<Exposition> {
  const registry = metricsRegistry as Registry<RegistryContentType>;
  let previous: Promise<unknown> = Promise.resolve();

  const restore = (): void => {
    registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    for (const metric of registry.getMetricsAsArray() as unknown as Array<{ type?: string; name: string }>) {
      if (metric.type === 'counter' && !metric.name.endsWith('_total')) metric.name = `${metric.name}_total`;
    }
  };

  const render = async (format: ExpositionFormat): Promise<Exposition> => {
    if (format === 'prometheus') return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await registry.metrics() };
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await registry.metrics() };
    } finally {
      restore();
    }
  };

  return (format) => {
    const next = previous.then(() => render(format));
    previous = next.catch(() => undefined);
    return next;
  };
}
