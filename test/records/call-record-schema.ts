import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

const schema = JSON.parse(readFileSync(new URL('../../docs/call-records.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addFormat('date-time', (value: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value)));
ajv.addSchema(schema);

/** Throws with ajv's errors when `value` is not a valid `definition` of docs/call-records.schema.json. */
export function assertSchema(definition: 'CallPage' | 'CallRecord' | 'RecordEvent', value: unknown): void {
  const validate = ajv.getSchema(`${schema.$id as string}#/$defs/${definition}`);
  if (!validate) throw new Error(`docs/call-records.schema.json has no $defs/${definition}`);
  if (!validate(value)) throw new Error(`not a valid ${definition}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value, null, 2)}`);
}
