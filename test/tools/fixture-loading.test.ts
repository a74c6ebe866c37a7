import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinTools, FixtureError } from '../../src/tools/builtin/index.js';
import { loadFixtures } from '../../src/tools/builtin/fixtures.js';

const FIXTURES = join(import.meta.dirname, '../../scenarios/fixtures');
const FILES = ['customers.json', 'appointments.json', 'knowledge.json'];

describe('fixture loading', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aybiza-fixtures-'));
    for (const file of FILES) await copyFile(join(FIXTURES, file), join(dir, file));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const edit = async (file: string, change: (data: any) => void): Promise<void> => {
    const data = JSON.parse(await readFile(join(dir, file), 'utf8'));
    change(data);
    await writeFile(join(dir, file), JSON.stringify(data));
  };

  it('loads the shipped Harbor Dental fixtures', async () => {
    const fixtures = await loadFixtures(FIXTURES);
    expect(fixtures.customers.length).toBeGreaterThanOrEqual(5);
    expect(fixtures.appointments.practice).toBe('Harbor Dental');
    expect(fixtures.knowledge.some((article) => article.id === 'cancellation-policy')).toBe(true);
    expect(await createBuiltinTools({ fixturesDir: FIXTURES })).toHaveLength(5);
  });

  it('names the file and JSON path of an invalid field', async () => {
    await edit('customers.json', (data) => { data.customers[2].phone = '555-1234'; });
    const loading = loadFixtures(dir);
    await expect(loading).rejects.toThrow(FixtureError);
    await expect(loadFixtures(dir)).rejects.toThrow(
      `Fixture file ${join(dir, 'customers.json')} is invalid: customers[2].phone: expected an E.164 phone number like +15551000000`,
    );
  });

  it('names a missing required field', async () => {
    await edit('appointments.json', (data) => { delete data.openingHours.friday; });
    await expect(loadFixtures(dir)).rejects.toThrow(/appointments\.json is invalid: openingHours\.friday: /);
  });

  it('names a file that is not JSON', async () => {
    await writeFile(join(dir, 'knowledge.json'), '{ "articles": [ ');
    await expect(loadFixtures(dir)).rejects.toThrow(/Fixture file .*knowledge\.json is not valid JSON: /);
  });

  it('names a file that is missing', async () => {
    await rm(join(dir, 'customers.json'));
    await expect(createBuiltinTools({ fixturesDir: dir })).rejects.toThrow(/Fixture file .*customers\.json cannot be read: ENOENT/);
  });

  it('refuses two customers with the same phone number', async () => {
    await edit('customers.json', (data) => { data.customers[1].phone = data.customers[0].phone; });
    await expect(loadFixtures(dir)).rejects.toThrow(/customers\[1\]\.phone: duplicate value "\+15551000000"/);
  });
});
