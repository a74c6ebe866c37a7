/** Metric names and label names an expression refers to, enough to check dashboards against code. */
export interface PromqlReferences {
  metrics: string[];
  labels: string[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

export function promqlReferences(expr: string): PromqlReferences {
  const labels = new Set<string>();
  let rest = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\$\{?\w+\}?/g, '1m');
  rest = rest.replace(/\{([^}]*)\}/g, (_match, inner: string) => {
    for (const matcher of inner.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.add(matcher[1] as string);
    return ' ';
  });
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_match, inner: string) => {
    for (const label of inner.split(',').map((l) => l.trim()).filter(Boolean)) labels.add(label);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  const metrics = new Set<string>();
  for (const match of rest.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1] as string;
    if (!KEYWORDS.has(name.toLowerCase())) metrics.add(name);
  }
  return { metrics: [...metrics], labels: [...labels] };
}

/** Sample names and their label names in a Prometheus text exposition. */
export function exposedSeries(exposition: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!match) continue;
    const labels = series.get(match[1] as string) ?? new Set<string>();
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(label[1] as string);
    series.set(match[1] as string, labels);
  }
  return series;
}
