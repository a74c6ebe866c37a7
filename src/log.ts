import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs, one line per event. Secrets and caller numbers are redacted by path so a
 * careless `log.info({ config })` cannot leak them.
 */
export const REDACT_PATHS = [
  'apiKeys', '*.apiKeys', 'metricsToken', '*.metricsToken', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization',
  'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken', 'password', '*.password',
  'resumeToken', '*.resumeToken', 'tokenSha256', '*.tokenSha256',
  'authToken', '*.authToken',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.AYBIZA_LOG_LEVEL ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Distinct lines a throttle keeps windows for; past it, it starts over (a bound, whatever the keys). */
const MAX_THROTTLED_KEYS = 256;

/**
 * For lines anyone who can reach a port may cause at will (a webhook with a forged signature, a
 * refused upgrade): of each `event` and `key`, the first in a `windowMs` is written and the rest
 * are counted into the next one written (`suppressed`), so a flood of bad requests costs a line per
 * window, not a line each. The metrics still count every one.
 */
export function throttledLog(log: Logger, windowMs = 10_000, now: () => number = Date.now) {
  const windows = new Map<string, { until: number; suppressed: number }>();
  return (level: 'info' | 'warn', key: string, fields: { event: string } & Record<string, unknown>): void => {
    const id = `${fields.event} ${key}`;
    const at = now();
    const window = windows.get(id);
    if (window && at < window.until) {
      window.suppressed += 1;
      return;
    }
    if (!window && windows.size >= MAX_THROTTLED_KEYS) windows.clear();
    windows.set(id, { until: at + windowMs, suppressed: 0 });
    log[level](window && window.suppressed > 0 ? { ...fields, suppressed: window.suppressed } : fields);
  };
}

/** What an AWS SDK client calls on the `logger` of its configuration (@smithy/types' Logger, in part). */
export interface AwsSdkLogger {
  debug(...content: unknown[]): void;
  warn(...content: unknown[]): void;
}

/**
 * An AWS SDK client's `logger`, writing into the runtime's JSON log: without one the SDK writes its
 * warnings to the console as plain text (`socket usage at capacity=50 and 351 additional requests
 * are enqueued` under load, `An error was encountered in a non-retryable streaming request.` for a
 * failed Transcribe stream). It has no `info` or `error` on purpose: for those the SDK's logger
 * middleware builds a sensitive-filtered copy of every request's input and output (a walk of their
 * schemas per request), and the errors it would log are the ones the runtime handles and logs itself.
 */
export function awsSdkLogger(log: Logger, client: string): AwsSdkLogger {
  const text = (content: unknown[]) => content.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ');
  return {
    debug: (...content) => log.debug({ event: 'aws_sdk.debug', client }, text(content)),
    warn: (...content) => log.warn({ event: 'aws_sdk.warning', client }, text(content)),
  };
}

/**
 * Phone numbers inside free text (a transcript), each masked as `maskPhone` masks a number field:
 * a run of seven or more digits, optionally with `+`, spaces, dots, dashes or parentheses between.
 * Numbers spoken as words ("five five five…") are not recognised.
 */
export function maskPhoneNumbersIn(text: string): string {
  return text.replace(/\+?\(?\d(?:[\s().-]{0,2}\d){6,}/g, (number) => maskPhone(number) as string);
}

/** Keeps the last four digits: enough for support to match a call, not enough to identify a caller. */
export function maskPhone(value: string | undefined): string | undefined {
  if (!value) return value;
  const digits = value.replace(/\D/g, '');
  return digits.length <= 4 ? '****' : `***${digits.slice(-4)}`;
}
