import type { RuntimeMetrics } from '../../src/metrics/metrics.js';

/**
 * Touches every runtime metric the way one call with a tool round, a fallback and a barge-in
 * does (heard and spoken as audio), so each labelled series appears in the exposition.
 */
export function exerciseEveryMetric(metrics: RuntimeMetrics): void {
  const model = { model: 'anthropic.claude-haiku-4-5-20251001-v1:0', region: 'us-east-1' };
  metrics.setActiveCallsSource(() => 1);
  metrics.setWriteQueueSource(() => 3);
  metrics.setUnjournaledSource(() => 0);
  metrics.setAccountingQueueSource(() => 0);
  metrics.frames.inc({ direction: 'in' });
  metrics.frames.inc({ direction: 'out' });
  metrics.protocolErrors.inc({ code: 'bad_frame' });
  metrics.modelTtft.observe(model, 0.42);
  metrics.modelStreamDuration.observe(model, 1.3);
  metrics.modelRequests.inc({ ...model, outcome: 'ok' });
  metrics.modelRequests.inc({ ...model, outcome: 'ThrottlingException' });
  metrics.fallbackHops.inc({ reason: 'throttled', kind: 'model' });
  metrics.countTokens(model.model, { inputTokens: 1200, outputTokens: 80, cacheReadInputTokens: 4000, cacheWriteInputTokens: 2048 });
  metrics.costUsd.inc({ model: model.model, agent: 'clinic' }, 0.0042);
  metrics.toolDuration.observe({ tool: 'lookup_hours', outcome: 'success', backend: 'builtin' }, 0.08);
  metrics.observeTurnLatency(0.61, 'call-abc');
  metrics.bargeIns.inc();
  metrics.toolRefusals.inc({ tool: 'transfer_call' });
  metrics.budgetRefusals.inc({ reason: 'tool_rounds' });
  metrics.actorRestarts.inc({ kind: 'call' });
  metrics.accountingTaskDuration.observe({ task: 'estimate' }, 0.004);
  metrics.trimFallbacks.inc({ reason: 'saturated' });
  metrics.trimSkips.inc();
  metrics.callEnded('completed');
  metrics.speech.sttFinalLatency(0.45);
  metrics.speech.sttStreamError(true);
  metrics.speech.sttStreamError(false);
  metrics.speech.ttsFirstByte(0.12);
  metrics.speech.ttsFailure('retried');
  metrics.speech.ttsFailure('skipped');
  metrics.speech.mouthToEar(1.1);
  metrics.speech.bargeIn('voice');
  metrics.speech.bargeIn('transcript');
  metrics.speech.backchannelIgnored();
  metrics.speech.audioFrame('in');
  metrics.speech.audioFrame('out');
  metrics.speech.audioFrameLate();
}
