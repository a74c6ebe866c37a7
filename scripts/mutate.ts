import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';

/**
 * `npm run mutate [-- src/path ...]`: StrykerJS on the given folders or files (all of src/ without
 * arguments), with stryker.config.json. Tests mirror src/, so paths under one folder src/X run
 * only test/X (vitest's `related` mode alone would pull in every integration test that imports the
 * folder through the node). The score table prints a line per file; the HTML report is written to
 * reports/mutation/index.html (git-ignored).
 */
function globFor(path: string): string {
  return statSync(path).isDirectory() ? `${path}/**/*.ts` : path;
}

const paths = process.argv.slice(2).map((path) => path.replace(/\/+$/, ''));
const folders = new Set(paths.map((path) => /^src\/([^/]+)/.exec(path)?.[1]));
const testDir = folders.size === 1 && !folders.has(undefined) ? `test/${[...folders][0]}` : undefined;
const base = JSON.parse(readFileSync('stryker.config.json', 'utf8')) as { vitest: Record<string, unknown> };
// Generated next to the project's configs (Stryker copies the project, minus reports/, into its sandbox); git-ignored.
const vitestConfig = 'vitest.mutate.config.ts';
if (testDir) {
  writeFileSync(vitestConfig, [
    "import base from './vitest.config.ts';",
    "import { defineConfig } from 'vitest/config';",
    `export default defineConfig({ ...base, test: { ...base.test, include: ['${testDir}/**/*.test.ts'] } });`,
    '',
  ].join('\n'));
}
const configFile = 'stryker.mutate.config.json';
writeFileSync(configFile, JSON.stringify({
  ...base,
  $schema: undefined,
  ...(paths.length > 0 ? { mutate: paths.map(globFor) } : {}),
  vitest: { ...base.vitest, ...(testDir ? { configFile: vitestConfig } : {}) },
}, null, 2));
const result = spawnSync('npx', ['stryker', 'run', configFile], { stdio: 'inherit' });
process.exit(result.status ?? 1);
