import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A folder stands for the scenario files in it (its JSON files, except JSON Schemas). */
export function scenarioFiles(path: string): string[] {
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    return [path];
  }
  if (!folder) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'))
    .sort()
    .map((name) => join(path, name));
}
