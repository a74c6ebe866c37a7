/**
 * What the fallback chain may do after a failed model call. It decides from this, never from
 * error names or messages.
 * - `retry-region`: the model is sick where we asked (not ready, 5xx, stream broke); another region may answer.
 * - `cheaper-model`: we are throttled or over quota for this model; a different model may answer.
 * - `other-model`: this model is refused to us (no access in this account, retired, id invalid); another model may answer.
 * - `none`: the request itself is wrong (validation); retrying anywhere repeats it.
 */
export type Recovery = 'retry-region' | 'cheaper-model' | 'other-model' | 'none';

export class ModelCallError extends Error {
  override readonly name = 'ModelCallError';
  constructor(
    message: string,
    /** The Bedrock error name, e.g. `ThrottlingException`, or `StreamTimeout` for a silent stream. */
    readonly code: string,
    readonly recovery: Recovery,
    /** True when some output had already been streamed before the failure. */
    readonly midStream = false,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}
