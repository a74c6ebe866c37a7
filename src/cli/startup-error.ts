/**
 * A start-up failure a person can act on: its message is one line naming the cause and the fix,
 * printed without a stack trace (unless AYBIZA_LOG_LEVEL=debug), exit status 2.
 */
export class StartupError extends Error {}
