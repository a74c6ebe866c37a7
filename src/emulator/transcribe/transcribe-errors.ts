export type TranscribeErrorType = 'BadRequestException' | 'LimitExceededException' | 'InternalFailureException' | 'ConflictException' | 'ServiceUnavailableException';

/** Status and fault of each modeled exception, from the service model. */
export const TRANSCRIBE_ERROR_STATUS: Record<TranscribeErrorType, number> = {
  BadRequestException: 400,
  ConflictException: 409,
  LimitExceededException: 429,
  InternalFailureException: 500,
  ServiceUnavailableException: 503,
};

export class TranscribeError extends Error {
  constructor(
    readonly type: TranscribeErrorType,
    message: string,
  ) {
    super(message);
  }
}
