/** A Lambda API error as its REST-JSON protocol carries it: `x-amzn-ErrorType` names it, the body has `Type` and `message`. */
export class LambdaError extends Error {
  constructor(
    readonly type: LambdaErrorType,
    message: string,
    /** Extra body fields, e.g. the throttle's `Reason`. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.type];
  }
}

export type LambdaErrorType =
  | 'ResourceNotFoundException'
  | 'TooManyRequestsException'
  | 'InvalidRequestContentException'
  | 'RequestTooLargeException'
  | 'InvalidParameterValueException'
  | 'ServiceException';

const STATUS: Record<LambdaErrorType, number> = {
  ResourceNotFoundException: 404,
  TooManyRequestsException: 429,
  InvalidRequestContentException: 400,
  RequestTooLargeException: 413,
  InvalidParameterValueException: 400,
  ServiceException: 500,
};
