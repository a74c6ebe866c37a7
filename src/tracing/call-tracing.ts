import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { CallObservation, CallObserver } from '../records/observations.js';

/** A call's spans while it lives: the call's, its current turn's, and its model requests in flight. */
interface CallSpans {
  call: Span;
  callContext: Context;
  turn?: { number: number; span: Span; context: Context };
  /** Model requests in flight, by round: at most one per round at a time. */
  requests: Map<number, { span: Span; sentAt: number }>;
}

export interface CallTracing {
  observe: CallObserver;
  tracer: Tracer;
  /** The context of the call's current turn, for spans started inside it (tool runs, whose webhooks carry it on). */
  turnContext(callId: string): Context | undefined;
  /** The context of a model request in flight, which the Bedrock request carries as `traceparent`. */
  requestContext(callId: string, round: number): Context | undefined;
}

/**
 * Traces of calls, built from what the runtime observes (`CallObservation`): a span per call, a
 * child per turn, and under the turn the history reads, every model request (model, region, tokens,
 * stop reason, time to first event) and every fallback hop, and on an audio line its speech-to-text
 * (last voiced frame to final transcript) and text-to-speech (request to last audio byte) spans. Spans take the observations' own times,
 * so they say when the work happened, not when it was reported. Tool runs are spans of their own,
 * started by the executor inside {@link CallTracing.turnContext}.
 */
export function createCallTracing(tracer: Tracer): CallTracing {
  const calls = new Map<string, CallSpans>();

  const endTurn = (spans: CallSpans, at: number, attributes: Attributes = {}) => {
    if (!spans.turn) return;
    for (const [round, request] of spans.requests) {
      request.span.setAttribute('aybiza.cancelled', true);
      request.span.end(at);
      spans.requests.delete(round);
    }
    spans.turn.span.setAttributes(attributes);
    spans.turn.span.end(at);
    spans.turn = undefined;
  };

  const childOfTurn = (spans: CallSpans, name: string, start: number, attributes: Attributes): Span =>
    tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start, attributes }, spans.turn?.context ?? spans.callContext);

  function observe(callId: string, observation: CallObservation): void {
    if (observation.type === 'call.started') {
      const call = tracer.startSpan('call', {
        kind: SpanKind.SERVER,
        startTime: observation.at,
        attributes: { 'aybiza.call_id': callId, 'aybiza.agent': observation.agent, 'aybiza.resumed': observation.resumed },
      }, context.active());
      calls.set(callId, { call, callContext: trace.setSpan(context.active(), call), requests: new Map() });
      return;
    }
    const spans = calls.get(callId);
    if (!spans) return;
    switch (observation.type) {
      case 'state':
        if (spans.turn && !observation.state.startsWith('responding')) endTurn(spans, observation.at);
        return;
      case 'turn.started': {
        // A turn the caller talked over before anything was said is answered together with the next.
        endTurn(spans, observation.at, spans.turn?.number === observation.turn ? { 'aybiza.superseded': true } : {});
        const span = tracer.startSpan('turn', {
          startTime: observation.at,
          attributes: { 'aybiza.call_id': callId, 'aybiza.turn': observation.turn },
        }, spans.callContext);
        spans.turn = { number: observation.turn, span, context: trace.setSpan(spans.callContext, span) };
        return;
      }
      case 'history.read':
        childOfTurn(spans, 'memory.history_read', observation.startedAt, { 'aybiza.round': observation.round, 'aybiza.messages': observation.messages })
          .end(observation.endedAt);
        return;
      case 'model.request': {
        const span = childOfTurn(spans, 'bedrock.converse_stream', observation.at, {
          'gen_ai.system': 'aws.bedrock',
          'gen_ai.request.model': observation.target.modelId,
          'cloud.region': observation.target.region,
          'aybiza.round': observation.round,
          'aybiza.cached': observation.cached,
        });
        spans.requests.set(observation.round, { span, sentAt: observation.at });
        return;
      }
      case 'model.firstEvent': {
        const request = spans.requests.get(observation.round);
        request?.span.setAttribute('aybiza.ttft_ms', Math.round((observation.at - request.sentAt) * 10) / 10);
        return;
      }
      case 'model.firstSentence':
        return;
      case 'model.done':
      case 'model.failed': {
        const request = spans.requests.get(observation.round);
        if (!request) return;
        spans.requests.delete(observation.round);
        if (observation.type === 'model.done') {
          request.span.setAttributes({
            'gen_ai.usage.input_tokens': observation.usage.inputTokens,
            'gen_ai.usage.output_tokens': observation.usage.outputTokens,
            'aybiza.usage.cache_read_input_tokens': observation.usage.cacheReadInputTokens,
            'aybiza.usage.cache_write_input_tokens': observation.usage.cacheWriteInputTokens,
            'aybiza.cost_usd': observation.costUsd,
            ...(observation.stopReason ? { 'gen_ai.response.finish_reasons': [observation.stopReason] } : {}),
          });
        } else {
          request.span.setAttribute('error.type', observation.code);
          request.span.setStatus({ code: SpanStatusCode.ERROR, message: observation.message });
        }
        request.span.end(observation.at);
        return;
      }
      case 'fallback':
        childOfTurn(spans, 'model.fallback', observation.at, {
          'aybiza.fallback.hop': observation.hop,
          'aybiza.fallback.reason': observation.reason,
          'error.type': observation.code,
          'aybiza.fallback.from_model': observation.from.modelId,
          'aybiza.fallback.from_region': observation.from.region,
          ...(observation.to ? { 'aybiza.fallback.to_model': observation.to.modelId, 'aybiza.fallback.to_region': observation.to.region } : {}),
        }).end(observation.at);
        return;
      case 'speech.transcribed':
        childOfTurn(spans, 'speech.to_text', observation.startedAt, { 'aybiza.chars': observation.chars }).end(observation.endedAt);
        return;
      case 'speech.synthesized':
        childOfTurn(spans, 'text_to_speech', observation.startedAt, {
          'aybiza.chars': observation.chars,
          'aybiza.cached': observation.cached,
          'aybiza.first_byte_ms': Math.round((observation.firstByteAt - observation.startedAt) * 10) / 10,
        }).end(observation.endedAt);
        return;
      case 'tool':
      case 'say':
      case 'played':
        return;
      case 'call.ended':
        endTurn(spans, observation.at);
        spans.call.setAttributes({ 'aybiza.outcome': observation.outcome, ...(observation.endReason ? { 'aybiza.end_reason': observation.endReason } : {}) });
        if (observation.outcome === 'error') spans.call.setStatus({ code: SpanStatusCode.ERROR, message: observation.endReason ?? 'error' });
        spans.call.end(observation.at);
        calls.delete(callId);
        return;
    }
  }

  return {
    observe,
    tracer,
    turnContext: (callId) => calls.get(callId)?.turn?.context,
    requestContext: (callId, round) => {
      const spans = calls.get(callId);
      const request = spans?.requests.get(round)?.span;
      return spans && request ? trace.setSpan(spans.turn?.context ?? spans.callContext, request) : undefined;
    },
  };
}
