import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

const customerSchema = z.object({
  id: z.string().regex(/^C-\d{4,}$/, 'expected a customer id like C-1001'),
  name: z.string().min(1),
  phone: z.string().regex(E164, 'expected an E.164 phone number like +15551000000'),
  email: z.string().regex(EMAIL, 'expected an email address'),
  patientSince: z.string().regex(DATE, 'expected a date YYYY-MM-DD'),
  insurance: z.string().min(1).optional(),
  accountStatus: z.enum(['good_standing', 'balance_due', 'on_hold']),
  balanceUsd: z.number().nonnegative(),
  preferredDentist: z.string().min(1).optional(),
  notes: z.string().optional(),
});

const customersSchema = z.object({ customers: z.array(customerSchema) });

const hoursSchema = z.array(z.object({
  from: z.string().regex(TIME, 'expected a time HH:MM'),
  to: z.string().regex(TIME, 'expected a time HH:MM'),
}));

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const appointmentsSchema = z.object({
  practice: z.string().min(1),
  timezone: z.string().min(1),
  slotMinutes: z.number().int().min(5).max(240),
  openingHours: z.object(Object.fromEntries(WEEKDAYS.map((day) => [day, hoursSchema])) as Record<Weekday, typeof hoursSchema>),
  closedDates: z.array(z.string().regex(DATE, 'expected a date YYYY-MM-DD')),
  booked: z.array(z.object({
    date: z.string().regex(DATE, 'expected a date YYYY-MM-DD'),
    time: z.string().regex(TIME, 'expected a time HH:MM'),
    customerId: z.string().optional(),
    reason: z.string().min(1),
  })),
});

const knowledgeSchema = z.object({
  articles: z.array(z.object({
    id: z.string().min(1),
    title: z.string().min(1),
    tags: z.array(z.string().min(1)),
    body: z.string().min(1),
  })).min(1),
});

export type Customer = z.infer<typeof customerSchema>;
export type AppointmentBook = z.infer<typeof appointmentsSchema>;
export type KnowledgeArticle = z.infer<typeof knowledgeSchema>['articles'][number];

export interface Fixtures {
  customers: Customer[];
  appointments: AppointmentBook;
  knowledge: KnowledgeArticle[];
}

export { WEEKDAYS };

/** A fixture file that cannot be used; the message names the file and the JSON path. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

/** Reads and validates `customers.json`, `appointments.json` and `knowledge.json` from `dir`. */
export async function loadFixtures(dir: string): Promise<Fixtures> {
  const [customers, appointments, knowledge] = await Promise.all([
    loadFixtureFile(join(dir, 'customers.json'), customersSchema),
    loadFixtureFile(join(dir, 'appointments.json'), appointmentsSchema),
    loadFixtureFile(join(dir, 'knowledge.json'), knowledgeSchema),
  ]);
  assertUnique(join(dir, 'customers.json'), 'customers', customers.customers.map((customer) => customer.id), 'id');
  assertUnique(join(dir, 'customers.json'), 'customers', customers.customers.map((customer) => customer.phone), 'phone');
  return { customers: customers.customers, appointments, knowledge: knowledge.articles };
}

export async function loadFixtureFile<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FixtureError(`Fixture file ${file} cannot be read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new FixtureError(`Fixture file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((issue) => `${jsonPath(issue.path)}: ${issue.message}`);
    throw new FixtureError(`Fixture file ${file} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function assertUnique(file: string, list: string, values: string[], field: string): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value)) throw new FixtureError(`Fixture file ${file} is invalid: ${list}[${index}].${field}: duplicate value "${value}"`);
    seen.add(value);
  });
}

/** `customers[2].phone`, the way a person looks it up in the file. */
function jsonPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}
