import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * `npm run bench [-- name ...]`: runs every bench/*.ts module that exports `run()`, or only the
 * named ones, one after another so they do not compete for the two cores.
 */
const benchDir = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url), '.ts');

function benchNames(): string[] {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => basename(file, '.ts'))
    .filter((name) => name !== self)
    .sort();
}

async function main(): Promise<void> {
  const available = benchNames();
  const requested = process.argv.slice(2).map((arg) => basename(arg, '.ts'));
  const unknown = requested.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ')}`);
  }
  let ran = 0;
  for (const name of requested.length > 0 ? requested : available) {
    const module = (await import(pathToFileURL(join(benchDir, `${name}.ts`)).href)) as { run?: unknown };
    if (typeof module.run !== 'function') {
      if (requested.includes(name)) throw new Error(`bench/${name}.ts exports no run() function`);
      continue;
    }
    console.log(`\n== bench/${name} ==`);
    await (module.run as () => Promise<void>)();
    ran += 1;
  }
  console.log(`\n${ran} bench(es) run`);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
