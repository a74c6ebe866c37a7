import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createExposition } from '../../src/metrics/exposition.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { exerciseEveryMetric } from './exercise-every-metric.js';
import { grafanaDir, readGrafanaYaml, unknownReferences } from './grafana-queries.js';
import { exposedSeries, promqlReferences } from './promql-references.js';

const grafana = grafanaDir;
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, which Grafana expands
const DATASOURCE_VARIABLE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const readYaml = readGrafanaYaml;

async function liveSeries(): Promise<Map<string, Set<string>>> {
  const metrics = createMetrics();
  exerciseEveryMetric(metrics);
  return exposedSeries((await createExposition(metrics.registry)('prometheus')).body);
}

describe('grafana dashboards and alert rules', () => {
  it('are valid JSON and YAML with the parts Grafana and Prometheus need', () => {
    const scrape = readYaml('prometheus/prometheus.yml');
    expect(scrape.rule_files).toContain('alerts.yml');
    expect(scrape.scrape_configs[0].metrics_path).toBe('/metrics');
    const datasource = readYaml('provisioning/datasources/prometheus.yml').datasources[0];
    const provider = readYaml('provisioning/dashboards/aybiza.yml').providers[0];
    expect(provider.options.path).toBeTruthy();
    for (const file of readdirSync(new URL('dashboards/', grafana))) {
      const dashboard = JSON.parse(readFileSync(new URL(`dashboards/${file}`, grafana), 'utf8'));
      // A datasource variable, so the dashboard imports into a Grafana whose Prometheus has another
      // uid; provisioned next to grafana/provisioning it starts on that datasource.
      expect(dashboard.templating.list).toContainEqual(expect.objectContaining({
        type: 'datasource', name: 'DS_PROMETHEUS', query: 'prometheus', current: expect.objectContaining({ value: datasource.uid }),
      }));
      for (const panel of dashboard.panels.filter((p: any) => p.type !== 'row')) {
        expect(panel.datasource, `${file}: ${panel.title}`).toEqual(DATASOURCE_VARIABLE);
        for (const target of panel.targets ?? []) expect(target.datasource, `${file}: ${panel.title}`).toEqual(DATASOURCE_VARIABLE);
      }
    }
    for (const rule of readYaml('prometheus/alerts.yml').groups.flatMap((g: any) => g.rules)) {
      expect(rule.alert).toMatch(/^Aybiza[A-Za-z0-9]+$/);
      expect(rule.annotations.summary).toBeTruthy();
    }
  });

  it('link exemplars to the provisioned logs datasource by the label the runtime puts on them', () => {
    const datasources = readYaml('provisioning/datasources/prometheus.yml').datasources;
    const [link] = datasources[0].jsonData.exemplarTraceIdDestinations;
    expect(link.name).toBe('record_id');
    const panes = JSON.parse(new URL(link.url, 'http://grafana').searchParams.get('panes') ?? '{}');
    const query = panes.x.queries[0];
    const logs = datasources.find((d: any) => d.uid === panes.x.datasource);
    expect(logs).toMatchObject({ name: 'Logs', type: 'loki' });
    expect(query.datasource).toEqual({ type: 'loki', uid: logs.uid });
    // `$$` is a literal `$` in a provisioning file.
    expect(query.expr).toBe('{job="aybiza"} |= "$${__value.raw}"');
  });

  it('name only metrics and labels the runtime exports', async () => {
    const series = await liveSeries();
    expect(unknownReferences((metric) => series.get(metric))).toEqual([]);
  });

  it('would catch a dashboard that drifted from the code', async () => {
    const series = await liveSeries();
    series.delete('aybiza_cost_usd_total');
    expect(unknownReferences((metric) => series.get(metric))).toEqual(expect.arrayContaining([expect.stringMatching(/unknown metric aybiza_cost_usd_total/)]));
  });

  it('finds metric names in PromQL the way Prometheus reads them', () => {
    expect(promqlReferences('histogram_quantile(0.95, sum by (le, model) (rate(aybiza_model_ttft_seconds_bucket{region=~"us-.*"}[$__rate_interval]))) > 1e-9')).toEqual({
      metrics: ['aybiza_model_ttft_seconds_bucket'],
      labels: ['region', 'le', 'model'],
    });
    expect(promqlReferences('deriv(a_depth[10m]) > 0 and a_depth > 1000 or up{job="x"} == 0').metrics).toEqual(['a_depth', 'up']);
  });
});
