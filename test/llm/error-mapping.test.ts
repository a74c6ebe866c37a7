import {
  AccessDeniedException,
  InternalServerException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { MalformedToolInputError, StreamTimeoutError, redactCredentials, toModelCallError } from '../../src/llm/error-mapping.js';
import { ModelCallError } from '../../src/llm/errors.js';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode }, message: 'm' });

describe('toModelCallError', () => {
  it.each([
    [new ThrottlingException(metadata(429)), 'ThrottlingException', 'cheaper-model', 429],
    [new ServiceQuotaExceededException(metadata(400)), 'ServiceQuotaExceededException', 'cheaper-model', 400],
    [new ModelNotReadyException(metadata(429)), 'ModelNotReadyException', 'retry-region', 429],
    [new ServiceUnavailableException(metadata(503)), 'ServiceUnavailableException', 'retry-region', 503],
    [new InternalServerException(metadata(500)), 'InternalServerException', 'retry-region', 500],
    [new ModelStreamErrorException(metadata(424)), 'ModelStreamErrorException', 'retry-region', 424],
    [new ValidationException(metadata(400)), 'ValidationException', 'none', 400],
    // Per model (issue 12): no access to this model, or the model retired; another model can answer.
    [new AccessDeniedException(metadata(403)), 'AccessDeniedException', 'other-model', 403],
    [new ResourceNotFoundException(metadata(404)), 'ResourceNotFoundException', 'other-model', 404],
    [new ValidationException({ $metadata: { httpStatusCode: 400 }, message: 'The provided model identifier is invalid.' }), 'InvalidModelId', 'other-model', 400],
  ])('maps %s to its code, recovery and HTTP status', (error, code, recovery, httpStatus) => {
    const mapped = toModelCallError(error, false);
    expect(mapped).toBeInstanceOf(ModelCallError);
    expect({ code: mapped.code, recovery: mapped.recovery, httpStatus: mapped.httpStatus, midStream: mapped.midStream })
      .toEqual({ code, recovery, httpStatus, midStream: false });
  });

  it('treats a stream timeout as retryable in another region', () => {
    const mapped = toModelCallError(new StreamTimeoutError('idle', 250), true);
    expect(mapped).toMatchObject({ code: 'StreamTimeout', recovery: 'retry-region', midStream: true });
    expect(mapped.message).toContain('250 ms');
  });

  it('treats a reset socket as retryable in another region', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toModelCallError(reset, true)).toMatchObject({ code: 'ECONNRESET', recovery: 'retry-region', midStream: true });
  });

  it('sends malformed tool input to another model', () => {
    const mapped = toModelCallError(new MalformedToolInputError('lookup_customer', 1, 'Unexpected end of JSON input'), true);
    expect(mapped).toMatchObject({ code: 'MalformedToolInput', recovery: 'cheaper-model' });
    expect(mapped.message).toContain('lookup_customer');
  });

  it('does not retry an unknown client-side failure', () => {
    expect(toModelCallError('weird', false)).toMatchObject({ code: 'UnknownError', recovery: 'none' });
  });

  it('returns a ModelCallError unchanged', () => {
    const original = new ModelCallError('x', 'StreamTimeout', 'retry-region', true);
    expect(toModelCallError(original, false)).toBe(original);
  });

  it('never carries credentials in its message', () => {
    const leaky = new Error(
      'signed with Credential=AKIAIOSFODNN7EXAMPLE/20261125/us-east-1/bedrock/aws4_request, Signature=0123abcdef '
      + 'X-Amz-Security-Token=FQoGZXIvYXdzEJr Authorization: AWS4-HMAC-SHA256 secret',
    );
    const message = toModelCallError(leaky, false).message;
    expect(message).not.toMatch(/AKIAIOSFODNN7EXAMPLE|0123abcdef|FQoGZXIvYXdzEJr|AWS4-HMAC-SHA256 secret/);
    expect(message).toContain('Credential=[redacted]');
  });
});

describe('redactCredentials', () => {
  it('leaves ordinary text alone', () => {
    expect(redactCredentials('Too many requests, please wait before trying again.'))
      .toBe('Too many requests, please wait before trying again.');
  });
});
