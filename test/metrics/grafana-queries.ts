import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { promqlReferences } from './promql-references.js';

export const grafanaDir = new URL('../../grafana/', import.meta.url);
export const readGrafanaYaml = (path: string): any => parse(readFileSync(new URL(path, grafanaDir), 'utf8'));

/** Series and labels that Prometheus adds itself rather than scraping them. */
const SYNTHETIC_METRICS = new Set(['up', 'scrape_duration_seconds', 'ALERTS']);
const TARGET_LABELS = new Set(['instance', 'job']);

export interface Query { where: string; expr: string }

export function dashboardQueries(): Query[] {
  const dir = new URL('dashboards/', grafanaDir);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((file) => {
    const dashboard = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    const panels = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
    return panels.flatMap((panel: any) => (panel.targets ?? []).map((t: any) => ({ where: `${file}: ${panel.title}`, expr: t.expr as string })));
  });
}

export function alertQueries(): Query[] {
  return readGrafanaYaml('prometheus/alerts.yml').groups.flatMap((group: any) =>
    group.rules.map((rule: any) => ({ where: `alerts.yml: ${rule.alert}`, expr: rule.expr as string })));
}

/**
 * Every metric or label a dashboard panel or alert rule names that `labelsOf` does not know.
 * `labelsOf` answers the label names of an exposed series, or undefined when there is none.
 */
export function unknownReferences(labelsOf: (metric: string) => Set<string> | undefined): string[] {
  const problems: string[] = [];
  for (const { where, expr } of [...dashboardQueries(), ...alertQueries()]) {
    const { metrics, labels } = promqlReferences(expr);
    if (metrics.length === 0) problems.push(`${where}: no metric found in ${expr}`);
    const known = new Set<string>();
    for (const metric of metrics) {
      const metricLabels = labelsOf(metric);
      if (metricLabels === undefined && !SYNTHETIC_METRICS.has(metric)) problems.push(`${where}: unknown metric ${metric}`);
      for (const label of metricLabels ?? []) known.add(label);
    }
    for (const label of labels) {
      if (!known.has(label) && !TARGET_LABELS.has(label)) problems.push(`${where}: label ${label} is not on ${metrics.join(', ')}`);
    }
  }
  return problems;
}
