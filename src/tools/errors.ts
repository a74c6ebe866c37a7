/** A tool definition the registry refuses: the process should not start with it. */
export class ToolConfigError extends Error {
  override readonly name = 'ToolConfigError';
}

/**
 * Thrown by a tool whose input passed the schema but still makes no sense (an impossible date, an
 * identifier of no known kind). The executor reports it as `invalid_input` so the model can retry.
 */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

/**
 * Thrown by a tool whose input the agent's tool policy does not allow (a transfer target off the
 * allow-list, another caller's record). The executor reports it as `refused`: the model reads why,
 * and the refusal is counted.
 */
export class ToolPolicyError extends Error {
  override readonly name = 'ToolPolicyError';
}

/** A configured connector whose backend cannot be reached at start: serve prints this one line and stops. */
export class ToolConnectorUnreachableError extends Error {
  override readonly name = 'ToolConnectorUnreachableError';
}
