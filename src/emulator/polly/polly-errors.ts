/** A Polly error as the REST-JSON protocol carries it: `x-amzn-ErrorType` names the class, the body has a lower-case `message`. */
export class PollyError extends Error {
  constructor(
    readonly type: PollyErrorType,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type PollyErrorType =
  | 'TextLengthExceededException'
  | 'InvalidSsmlException'
  | 'InvalidSampleRateException'
  | 'EngineNotSupportedException'
  | 'ValidationException'
  | 'ThrottlingException'
  | 'ServiceFailureException';

const STATUS: Record<PollyErrorType, number> = {
  TextLengthExceededException: 400,
  InvalidSsmlException: 400,
  InvalidSampleRateException: 400,
  EngineNotSupportedException: 400,
  ValidationException: 400,
  ThrottlingException: 400,
  ServiceFailureException: 500,
};

export const pollyError = (type: PollyErrorType, message: string): PollyError => new PollyError(type, STATUS[type], message);
