import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';

/**
 * `npm run mutate [-- src/path ... [--tests test/file-or-glob ...]]`: StrykerJS on the given folders or
 * files (all of src/ without arguments), with stryker.config.json. Tests mirror src/, so paths under
 * one folder src/X run only test/X (vitest's `related` mode alone would pull in every integration
 * test that imports the folder through the node); `--tests` narrows that to the given files or
 * globs, which keeps a run on one file to minutes on a 2-core machine instead of an hour. The score
 * table prints a line per file; the HTML report is written to reports/mutation/index.html (git-ignored).
 */
function globFor(path: string): string {
  return statSync(path).isDirectory() ? `${path}/**/*.ts` : path;
}

// Everything after `--tests` is a test file or glob, so a glob the shell has already expanded still counts as tests.
const args = process.argv.slice(2);
const testsAt = args.indexOf('--tests');
const paths = (testsAt < 0 ? args : args.slice(0, testsAt)).map((path) => path.replace(/\/+$/, ''));
const tests = testsAt < 0 ? [] : args.slice(testsAt + 1);
if (testsAt >= 0 && tests.length === 0) {
  console.error('mutate: --tests needs test files or globs after it, e.g. --tests test/call/call-policy.test.ts');
  process.exit(2);
}
const folders = new Set(paths.map((path) => /^src\/([^/]+)/.exec(path)?.[1]));
const testDir = folders.size === 1 && !folders.has(undefined) ? `test/${[...folders][0]}` : undefined;
const include = tests.length > 0 ? tests : testDir ? [`${testDir}/**/*.test.ts`] : undefined;
const base = JSON.parse(readFileSync('stryker.config.json', 'utf8')) as { vitest: Record<string, unknown> };
// Generated next to the project's configs (Stryker copies the project, minus reports/, into its sandbox); git-ignored.
const vitestConfig = 'vitest.mutate.config.ts';
if (include) {
  writeFileSync(vitestConfig, [
    "import base from './vitest.config.ts';",
    "import { defineConfig } from 'vitest/config';",
    `export default defineConfig({ ...base, test: { ...base.test, include: ${JSON.stringify(include)} } });`,
    '',
  ].join('\n'));
}
const configFile = 'stryker.mutate.config.json';
writeFileSync(configFile, JSON.stringify({
  ...base,
  $schema: undefined,
  ...(paths.length > 0 ? { mutate: paths.map(globFor) } : {}),
  vitest: { ...base.vitest, ...(include ? { configFile: vitestConfig } : {}) },
}, null, 2));
const result = spawnSync('npx', ['stryker', 'run', configFile], { stdio: 'inherit' });
process.exit(result.status ?? 1);
