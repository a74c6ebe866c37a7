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
