import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/load/scenario.js';

/** Regenerates `scenarios/scenario.schema.json` from the zod schema; a test fails when it is stale. */
const target = new URL('../scenarios/scenario.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
