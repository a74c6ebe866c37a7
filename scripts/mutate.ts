import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

/**
 * `npm run mutate [-- src/path ...]`: StrykerJS on the given folders or files (all of src/ without
 * arguments), with stryker.config.json. The score table prints a line per file; the HTML report is
 * written to reports/mutation/index.html (git-ignored).
 */
function globFor(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return statSync(trimmed).isDirectory() ? `${trimmed}/**/*.ts` : trimmed;
}

const paths = process.argv.slice(2);
const args = ['stryker', 'run', 'stryker.config.json', ...(paths.length > 0 ? ['--mutate', paths.map(globFor).join(',')] : [])];
const result = spawnSync('npx', args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
