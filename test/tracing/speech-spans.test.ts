import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallTracing } from '../../src/tracing/call-tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

afterEach(() => exporter.reset());

const msOf = ([seconds, nanos]: [number, number]) => seconds * 1_000 + nanos / 1e6;

describe('speech spans of a call trace', () => {
  it('puts speech-to-text and text-to-speech under the turn they happen in, with the observations\' times', () => {
    const tracing = createCallTracing(provider.getTracer('test'));
    tracing.observe('CA1', { type: 'call.started', at: 1_000, agent: 'support', resumed: false });
    tracing.observe('CA1', { type: 'speech.transcribed', startedAt: 1_500, endedAt: 1_900, chars: 5 });
    tracing.observe('CA1', { type: 'turn.started', at: 1_950, turn: 1, words: 'hello' });
    tracing.observe('CA1', { type: 'speech.synthesized', startedAt: 2_000, firstByteAt: 2_120, endedAt: 2_400, chars: 12, cached: false });
    tracing.observe('CA1', { type: 'call.ended', at: 3_000, outcome: 'completed' });

    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.find((span) => span.name === name);
    const call = byName('call');
    const turn = byName('turn');
    const stt = byName('speech.to_text');
    const tts = byName('text_to_speech');
    // The final transcript comes before its turn opens: it belongs to the call.
    expect(stt?.parentSpanContext?.spanId).toBe(call?.spanContext().spanId);
    expect(tts?.parentSpanContext?.spanId).toBe(turn?.spanContext().spanId);
    expect(stt && [msOf(stt.startTime), msOf(stt.endTime)]).toEqual([1_500, 1_900]);
    expect(tts && [msOf(tts.startTime), msOf(tts.endTime)]).toEqual([2_000, 2_400]);
    expect(stt?.attributes).toEqual({ 'aybiza.chars': 5 });
    expect(tts?.attributes).toEqual({ 'aybiza.chars': 12, 'aybiza.cached': false, 'aybiza.first_byte_ms': 120 });
  });
});
