/** A command-line mistake: printed without a stack trace, exit status 2. */
export class UsageError extends Error {}

export function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new UsageError(`${flag} "${value}": expected a non-negative number`);
  return parsed;
}

export function integerFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const parsed = numberFlag(flag, value);
  if (parsed !== undefined && (!Number.isInteger(parsed) || parsed < min || parsed > max)) {
    throw new UsageError(`${flag} "${value}": expected an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}`);
  }
  return parsed;
}

/** One of a fixed set of words, or `fallback` when the flag is absent. */
export function choiceFlag<T extends string>(flag: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${flag}: got ${JSON.stringify(value)} — expected ${choices.join(' or ')}`);
  return value as T;
}
