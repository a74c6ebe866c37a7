/** The error names Bedrock Runtime answers with before a stream starts, and their HTTP status. */
export const ERROR_STATUS = {
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
} as const;

export type BedrockErrorName = keyof typeof ERROR_STATUS;

/** A request Bedrock refuses before answering: status, `x-amzn-ErrorType` name and the `{message}` body. */
export class BedrockError extends Error {
  readonly status: number;
  constructor(readonly errorType: BedrockErrorName, message: string) {
    super(message);
    this.status = ERROR_STATUS[errorType];
  }

  /** The `x-amzn-ErrorType` header as the real service writes it. */
  get errorTypeHeader(): string {
    return `${this.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
  }
}

export const validation = (message: string): BedrockError => new BedrockError('ValidationException', message);

/** What the real service says for each fault the script can inject. */
export const FAULT_MESSAGES = {
  throttle: 'Too many requests, please wait before trying again.',
  accessDenied: "You don't have access to the model with the specified model ID.",
  resourceNotFound: 'Model not found. The model may have reached its end of life; check the model lifecycle.',
  modelTimeout: 'Model has timed out in processing the request. Try your request again.',
  modelError: 'The model returned an error while processing the request.',
  serviceQuotaExceeded: "Your request exceeds the service quota for your account. You can view your quotas at https://docs.aws.amazon.com/servicequotas/latest/userguide/gs-request-quota.html. You can modify your quotas at https://console.aws.amazon.com/servicequotas/.",
  notReady: 'Model is not ready to serve inference requests. The AWS SDK will automatically retry the operation up to 5 times. For information about configuring automatic retries, see Retry behavior in the AWS SDKs and Tools reference guide.',
  serviceUnavailable: 'Bedrock is unable to process your request.',
  midStreamError: 'An error occurred while processing the model stream.',
  inStreamInternalError: 'The server encountered an internal error while processing the request.',
  inStreamUnavailable: 'The service is temporarily unable to handle the request.',
  inStreamValidation: 'The model produced output that could not be validated.',
} as const;

/** The exception each pre-stream fault is answered with. */
export const PRE_STREAM_FAULT_ERRORS = {
  throttle: 'ThrottlingException',
  notReady: 'ModelNotReadyException',
  serviceUnavailable: 'ServiceUnavailableException',
  accessDenied: 'AccessDeniedException',
  resourceNotFound: 'ResourceNotFoundException',
  modelTimeout: 'ModelTimeoutException',
  modelError: 'ModelErrorException',
  serviceQuotaExceeded: 'ServiceQuotaExceededException',
} as const satisfies Record<string, BedrockErrorName>;
