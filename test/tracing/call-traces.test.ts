import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';

let receiver: OtlpReceiver;
let crm: Server;
const traceparents: Array<string | undefined> = [];
let test: TestNode;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  crm = createServer((request, response) => {
    traceparents.push(request.headers.traceparent as string | undefined);
    request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { plan: 'gold' } })));
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  // The standard variables, as an operator sets them; this test file runs in a process of its own.
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.tracesUrl;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '10';
  process.env.OTEL_SERVICE_NAME = 'aybiza-under-test';
  test = await startTestNode({
    config: {
      agents: { default: { systemPrompt: 'You check plans.', tools: ['crm_plan'], model: 'sonnet' } },
      tools: {
        webhooks: [{
          name: 'crm_plan',
          description: "The caller's plan in the CRM.",
          inputSchema: { type: 'object', properties: { phone: { type: 'string' } }, required: ['phone'] },
          url: `http://127.0.0.1:${(crm.address() as AddressInfo).port}/hook`,
          allowHosts: ['127.0.0.1'],
        }],
      },
    },
    script: {
      ttftMs: 5,
      rules: [
        { when: 'plan', toolUse: { name: 'crm_plan', input: { phone: '{{from}}' } } },
        { after: 'crm_plan', reply: 'You are on the gold plan.' },
        { reply: 'Goodbye then.' },
      ],
      // The primary region is never ready: every turn's first request falls back to the other one.
      faults: { byRegion: { 'us-east-1': { notReadyRate: 1 } } },
    },
  });
});

afterAll(async () => {
  await test?.close();
  await receiver?.close();
  await new Promise((resolve) => crm.close(resolve));
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_SERVICE_NAME']) delete process.env[name];
});

/** A span's children, oldest first, as `name` plus the attributes that tell them apart. */
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));

describe('OpenTelemetry traces over OTLP', () => {
  it('exports a call span, a span per turn, and under it history reads, model requests, the fallback hop and the tool run', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'traced-call', from: '+15551230000' });
    await caller.turn('Which plan am I on?');
    await caller.turn('Thanks, that is all.');
    caller.send({ type: 'hangup' });
    await caller.closed();
    let call: ReceivedSpan | undefined;
    while (!call) {
      call = receiver.spans.find((span) => span.name === 'call' && span.attributes['aybiza.call_id'] === 'traced-call');
      if (!call) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Children end before their parents, so they were exported with or before the call span.
    const { spans } = receiver;
    expect(receiver.contentTypes[0]).toBe('application/x-protobuf');
    expect(call.resource['service.name']).toBe('aybiza-under-test');
    expect(call).toMatchObject({ parentSpanId: '', kind: 2, attributes: { 'aybiza.agent': 'default', 'aybiza.outcome': 'hangup' } });

    const turns = childrenOf(spans, call);
    expect(turns.map((turn) => [turn.name, turn.attributes['aybiza.turn']])).toEqual([['turn', 1], ['turn', 2]]);

    const first = childrenOf(spans, turns[0]!);
    expect(first.map((span) => span.name)).toEqual(['bedrock.converse_stream', 'model.fallback', 'bedrock.converse_stream', 'tool crm_plan', 'bedrock.converse_stream']);
    const [failed, hop, toolRound, tool, answer] = first;
    expect(failed).toMatchObject({ status: { code: 2 }, attributes: { 'cloud.region': 'us-east-1', 'error.type': 'ModelNotReadyException', 'aybiza.round': 0 } });
    expect(hop!.attributes).toMatchObject({ 'aybiza.fallback.hop': 'region', 'aybiza.fallback.from_region': 'us-east-1', 'aybiza.fallback.to_region': 'us-west-2' });
    expect(toolRound!.attributes).toMatchObject({
      'gen_ai.request.model': expect.stringContaining('claude-sonnet'), 'cloud.region': 'us-west-2', 'aybiza.round': 0, 'gen_ai.response.finish_reasons': ['tool_use'],
    });
    expect(toolRound!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(toolRound!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(toolRound!.attributes['aybiza.ttft_ms']).toBeGreaterThanOrEqual(0);
    expect(tool!.attributes).toMatchObject({ 'aybiza.tool.name': 'crm_plan', 'aybiza.tool.outcome': 'success' });
    expect(answer!.attributes).toMatchObject({ 'aybiza.round': 1, 'gen_ai.response.finish_reasons': ['end_turn'] });
    // The webhook was called inside the tool's span and carried it on (W3C trace context).
    expect(traceparents).toEqual([`00-${tool!.traceId}-${tool!.spanId}-01`]);
    // Each Bedrock request carried its own request span, as the emulator received it.
    const requestSpans = first.filter((span) => span.name === 'bedrock.converse_stream');
    expect(test.requests('traced-call').slice(0, 3).map((request) => request.traceparent)).toEqual(
      requestSpans.map((span) => `00-${span.traceId}-${span.spanId}-01`),
    );

    const second = childrenOf(spans, turns[1]!);
    expect(second.map((span) => span.name)).toEqual(expect.arrayContaining(['memory.history_read', 'bedrock.converse_stream']));
    expect(second[0]).toMatchObject({ name: 'memory.history_read' });
    expect(second.find((span) => span.name === 'memory.history_read')!.attributes['aybiza.messages']).toBeGreaterThan(0);
    for (const span of [...turns, ...first, ...second]) {
      expect(span.traceId).toBe(call.traceId);
      expect(span.startNs).toBeLessThanOrEqual(span.endNs);
    }
  });
});
