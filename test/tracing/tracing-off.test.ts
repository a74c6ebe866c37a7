import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startTracing, tracingRequested } from '../../src/tracing/sdk.js';

describe('tracing is off unless an OTLP endpoint is set', () => {
  it('asks for traces only with an endpoint, and not when the SDK or the exporter is turned off', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'aybiza' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('registers nothing without one, so the API in the code makes no recording spans', () => {
    expect(startTracing({}, createLogger({ level: 'silent' }))).toBeUndefined();
    const span = trace.getTracer('aybiza').startSpan('turn');
    expect(span.isRecording()).toBe(false);
    span.end();
  });
});
