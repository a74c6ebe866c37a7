/** A command-line mistake: printed without a stack trace, exit status 2. */
export class UsageError extends Error {}

export function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new UsageError(`${flag} "${value}": expected a non-negative number`);
  return parsed;
}

export function integerFlag(flag: string, value: string | undefined, min: number): number | undefined {
  const parsed = numberFlag(flag, value);
  if (parsed !== undefined && (!Number.isInteger(parsed) || parsed < min)) throw new UsageError(`${flag} "${value}": expected an integer of at least ${min}`);
  return parsed;
}
