import type { ToolDefinition } from '../../src/tools/types.js';
import { CallerClient, type SayFrame } from '../integration/caller-client.js';
import { startCuttableRelay, startDynalite } from '../memory/memory-fixtures.js';
import { callerTurn } from './caller-turn.js';
import { startEmulatorProcess, stopChild } from './cli-process.js';
import { startDynamoFaultRelay } from './fault-relays.js';
import { countStoredMessages, metricValue, startReliabilityNode, tempDir, uniqueId, type ReliabilityNode } from './reliability-node.js';

/** One row of the fault table: what was injected, what the caller heard, what was lost. */
export interface FaultOutcome {
  fault: string;
  /** What the caller must experience (asserted). */
  callerExperience: string;
  metric: string;
  injected: number;
  calls: number;
  /** Calls with a turn that got no answer at all. */
  silentCalls: number;
  /** Messages a completed turn recorded that DynamoDB does not hold. */
  itemsLost: number;
  /** Did the caller hear what `callerExperience` promises? */
  ok: boolean;
  heard: string[];
}

export const REPLY = 'Sure, happy to help.';
export const LONG_REPLY = 'Sure, I can do that. I will book the cleaning for Tuesday at ten in the morning, and you will get a reminder the day before. Is there anything else?';
export const CANNED = 'Sorry, our system is slow right now. Please say that again.';
export const TOOL_ANSWER = 'I could not reach that system, but I can still help you.';

const agent = (extra: Record<string, unknown> = {}) => ({ systemPrompt: 'You answer.', tools: [], model: 'sonnet', cannedAnswer: CANNED, ...extra });
const fast = { ttftMs: { min: 1, max: 5 }, tokensPerSecond: 2_000 };

const agents = {
  default: agent(),
  throttled: agent(),
  notready: agent(),
  unavailable: agent(),
  midstream: agent(),
  streamthrottled: agent(),
  stalled: agent(),
  accessdenied: agent(),
  retired: agent(),
  tools: agent({ tools: ['hanging_tool', 'throwing_tool', 'huge_tool'] }),
};

const scripts = {
  default: { ...fast, rules: [{ reply: REPLY }] },
  throttled: { ...fast, rules: [{ reply: REPLY }], faults: { byModel: { 'claude-sonnet': { throttleRate: 1 } } } },
  notready: { ...fast, rules: [{ reply: REPLY }], faults: { byRegion: { 'us-east-1': { notReadyRate: 1 } } } },
  unavailable: { ...fast, rules: [{ reply: REPLY }], faults: { byRegion: { 'us-east-1': { serviceUnavailableRate: 1 } } } },
  // Slow enough that the first sentence is spoken before the stream breaks half-way.
  midstream: { ttftMs: 5, tokensPerSecond: 200, rules: [{ reply: LONG_REPLY }], faults: { byModel: { 'claude-sonnet': { midStreamErrorRate: 1 } } } },
  streamthrottled: { ttftMs: 5, tokensPerSecond: 200, rules: [{ reply: LONG_REPLY }], faults: { byModel: { 'claude-sonnet': { inStreamThrottleRate: 1 } } } },
  stalled: { ...fast, rules: [{ reply: REPLY }], faults: { byModel: { 'claude-sonnet': { stallRate: 1, stallMs: 60_000 } } } },
  accessdenied: { ...fast, rules: [{ reply: REPLY }], faults: { byModel: { 'claude-sonnet': { accessDeniedRate: 1 } } } },
  retired: { ...fast, rules: [{ reply: REPLY }], faults: { byModel: { 'claude-sonnet': { resourceNotFoundRate: 1 } } } },
  tools: {
    ...fast,
    rules: [
      { after: 'hanging_tool', reply: TOOL_ANSWER },
      { after: 'throwing_tool', reply: TOOL_ANSWER },
      { after: 'huge_tool', reply: TOOL_ANSWER },
      { when: 'hang', toolUse: { name: 'hanging_tool', input: {} } },
      { when: 'throw', toolUse: { name: 'throwing_tool', input: {} } },
      { when: 'huge', toolUse: { name: 'huge_tool', input: {} } },
      { reply: REPLY },
    ],
  },
};

const TEN_MB = 10 * 1024 * 1024;
const faultyTools: ToolDefinition[] = [
  {
    name: 'hanging_tool', description: 'Never answers.', inputSchema: { type: 'object' }, timeoutMs: 300,
    run: (_input, context) => new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted')))),
  },
  { name: 'throwing_tool', description: 'Always fails.', inputSchema: { type: 'object' }, run: async () => { throw new Error('backend exploded'); } },
  { name: 'huge_tool', description: 'Answers 10 MB.', inputSchema: { type: 'object' }, run: async () => ({ result: 'x'.repeat(TEN_MB) }) },
];

/** Crashes the call actor inside an action the first time a call's caller says "poison". */
export function poisonOnce() {
  const crashed = new Set<string>();
  return (effects: { turnStarted: (context: any) => void }) => ({
    turnStarted: (context: { callId: string; utterance: string }) => {
      if (context.utterance.includes('poison') && !crashed.has(context.callId)) {
        crashed.add(context.callId);
        throw new Error('poisoned action');
      }
      effects.turnStarted(context);
    },
  });
}

interface CallRun {
  callId: string;
  heard: string[];
  silentTurns: number;
  /** Messages the completed turns put in history. */
  expectedMessages: number;
}

const spoken = (says: SayFrame[]): string => says.map((say) => say.text).filter(Boolean).join(' ');

async function runCall(url: string, agentName: string, utterances: Array<{ text: string; messages: number }>, between?: (index: number) => Promise<void>, timeoutMs = 10_000): Promise<CallRun> {
  const caller = await CallerClient.connect(url);
  const callId = uniqueId(`fault-${agentName}`);
  await caller.start({ callId, agent: agentName });
  const run: CallRun = { callId, heard: [], silentTurns: 0, expectedMessages: 0 };
  for (const [index, utterance] of utterances.entries()) {
    await between?.(index);
    const says = await callerTurn(caller, utterance.text, timeoutMs);
    if (!says) {
      run.silentTurns += 1;
      run.heard.push('');
      continue;
    }
    run.heard.push(spoken(says));
    run.expectedMessages += utterance.messages;
  }
  caller.send({ type: 'hangup' });
  await caller.closed();
  return run;
}

/** Turn pairs: the caller's words and the agent's answer; a tool round adds the tool use and its result. */
const plainTurn = (text: string) => ({ text, messages: 2 });
const toolTurn = (text: string) => ({ text, messages: 4 });

interface Scenario {
  fault: string;
  callerExperience: string;
  metric: string;
  run(): Promise<{ calls: CallRun[]; injected: number; ok: boolean }>;
}

/**
 * Runs every fault of the matrix against live calls on one node whose Redis and DynamoDB sit behind
 * relays the run can break, then counts what reached DynamoDB for every call.
 */
export async function runFaultMatrix(): Promise<FaultOutcome[]> {
  const dynalite = await startDynalite();
  const dynamo = await startDynamoFaultRelay(dynalite.endpoint);
  const redis = await startCuttableRelay(6379);
  const tableName = uniqueId('reliability');
  const test = await startReliabilityNode({
    scripts, extraTools: faultyTools, effectOverrides: poisonOnce() as never,
    config: {
      agents,
      bedrock: { idleTimeoutMs: 400, firstEventTimeoutMs: 2_000 },
      memory: { redisUrl: `redis://127.0.0.1:${redis.port}`, durable: 'aws', dynamoEndpoint: dynamo.endpoint, tableName, writeBehind: { flushMs: 20 } },
    },
  });
  const url = test.url;
  const hops = (reason: string) => metricValue(test, 'aybiza_fallback_hops_total', { reason });
  /** Every turn heard the whole answer, and its first sentence only once (a retry continued, it did not repeat). */
  const heardOnce = (calls: CallRun[], text: string) =>
    calls.every((call) => call.heard.every((heard) => heard === text && heard.split(text.split('. ')[0]!).length === 2) && continued(call.callId));
  /** Some retry of the call asked the model to go on from words already said (an assistant prefill). */
  const continued = (callId: string) => (test.node.emulator?.requests({ callId }) ?? []).some((record) =>
    (record.body as { messages: Array<{ role: string }> }).messages.at(-1)?.role === 'assistant');
  const sameEveryTurn = (calls: CallRun[], text: string) => calls.every((call) => call.heard.every((heard) => heard === text));

  const scenarios: Scenario[] = [
    {
      fault: 'Bedrock throttling (HTTP 429 ThrottlingException)',
      callerExperience: 'the answer, from the cheaper model; no gap beyond one retry',
      metric: 'aybiza_fallback_hops_total{reason="throttled"}',
      run: async () => {
        const calls = await Promise.all([0, 1, 2].map(() => runCall(url, 'throttled', [plainTurn('Hello'), plainTurn('Again')])));
        return { calls, injected: await hops('throttled'), ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'Bedrock throttling in the stream (throttlingException event after the first sentence)',
      callerExperience: 'the rest of the answer from the cheaper model, continued from what was said',
      metric: 'aybiza_model_requests_total{outcome="ThrottlingException"}',
      run: async () => {
        const before = await metricValue(test, 'aybiza_model_requests_total', { outcome: 'ThrottlingException' });
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'streamthrottled', [plainTurn('Book me a cleaning'), plainTurn('Thanks')])));
        const injected = (await metricValue(test, 'aybiza_model_requests_total', { outcome: 'ThrottlingException' })) - before;
        return { calls, injected, ok: heardOnce(calls, LONG_REPLY) };
      },
    },
    {
      fault: 'No access to the model in this account (HTTP 403 AccessDeniedException)',
      callerExperience: 'the answer, from the next model in the chain',
      metric: 'aybiza_fallback_hops_total{reason="access_denied"}',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'accessdenied', [plainTurn('Hello'), plainTurn('Again')])));
        return { calls, injected: await hops('access_denied'), ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'Model retired (HTTP 404 ResourceNotFoundException)',
      callerExperience: 'the answer, from the next model in the chain',
      metric: 'aybiza_fallback_hops_total{reason="model_unavailable"}',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'retired', [plainTurn('Hello'), plainTurn('Again')])));
        return { calls, injected: await hops('model_unavailable'), ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'ModelNotReadyException in the primary region',
      callerExperience: 'the answer, from the other region',
      metric: 'aybiza_fallback_hops_total{reason="region_unavailable",kind="region"}',
      run: async () => {
        const before = await hops('region_unavailable');
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'notready', [plainTurn('Hello'), plainTurn('Again')])));
        return { calls, injected: (await hops('region_unavailable')) - before, ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'Bedrock 5xx (ServiceUnavailableException)',
      callerExperience: 'the answer, from the other region',
      metric: 'aybiza_model_requests_total{outcome="ServiceUnavailableException"}',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'unavailable', [plainTurn('Hello'), plainTurn('Again')])));
        return { calls, injected: await metricValue(test, 'aybiza_model_requests_total', { outcome: 'ServiceUnavailableException' }), ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'mid-stream error after the first sentence was spoken',
      callerExperience: 'the rest of the answer, continued from what was said (no sentence repeated)',
      metric: 'aybiza_model_requests_total{outcome="ModelStreamErrorException"}',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'midstream', [plainTurn('Book me a cleaning'), plainTurn('Thanks')])));
        return { calls, injected: await metricValue(test, 'aybiza_model_requests_total', { outcome: 'ModelStreamErrorException' }), ok: heardOnce(calls, LONG_REPLY) };
      },
    },
    {
      fault: 'stream hangs (no bytes for the idle timeout)',
      callerExperience: 'the answer, from the fallback model after the idle timeout',
      metric: 'aybiza_model_requests_total{outcome="StreamTimeout"}',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'stalled', [plainTurn('Hello')])));
        return { calls, injected: await metricValue(test, 'aybiza_model_requests_total', { outcome: 'StreamTimeout' }), ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'a tool that hangs / throws / returns 10 MB',
      callerExperience: 'the agent explains it could not reach the system; the call goes on',
      metric: 'aybiza_tool_duration_seconds_count{outcome="timeout"|"error"|"too_large"}',
      run: async () => {
        const calls = [await runCall(url, 'tools', [toolTurn('please hang'), toolTurn('now throw'), toolTurn('something huge'), plainTurn('Hello')])];
        const outcomes = await Promise.all(['timeout', 'error', 'too_large'].map((outcome) => metricValue(test, 'aybiza_tool_duration_seconds_count', { outcome })));
        const heard = calls[0]!.heard;
        const ok = heard.slice(0, 3).every((text) => text.endsWith(TOOL_ANSWER)) && heard[3] === REPLY && outcomes.every((count) => count >= 1);
        return { calls, injected: outcomes.reduce((a, b) => a + b, 0), ok };
      },
    },
    {
      fault: 'call actor throws inside an action',
      callerExperience: 'the actor restarts from its last turn boundary and answers the turn',
      metric: 'aybiza_actor_restarts_total{kind="call"}',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'default', [plainTurn('Hello'), plainTurn('this is poison'), plainTurn('Still there?')])));
        return { calls, injected: await metricValue(test, 'aybiza_actor_restarts_total', { kind: 'call' }), ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'Redis connection dropped mid-call, then restored',
      callerExperience: 'nothing: turns go on, history is read from DynamoDB meanwhile',
      metric: 'aybiza_memory_hot_errors_total',
      run: async () => {
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'default', [plainTurn('One'), plainTurn('Two'), plainTurn('Three'), plainTurn('Four')], async (index) => {
          if (index === 1) redis.cut();
          if (index === 3) redis.restore();
        })));
        redis.restore();
        const hotErrors = await metricValue(test, 'aybiza_memory_hot_errors_total');
        return { calls, injected: hotErrors, ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'DynamoDB throttling (ProvisionedThroughputExceededException)',
      callerExperience: 'nothing: writes wait in the write-behind queue and are retried',
      metric: 'aybiza_memory_write_queue_depth',
      run: async () => {
        dynamo.setMode('throttle');
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'default', [plainTurn('One'), plainTurn('Two'), plainTurn('Three')])));
        await new Promise((resolve) => setTimeout(resolve, 300));
        dynamo.setMode('pass');
        return { calls, injected: dynamo.injected().throttled, ok: sameEveryTurn(calls, REPLY) };
      },
    },
    {
      fault: 'DynamoDB unavailable (connections dropped), then back',
      callerExperience: 'nothing: writes wait in the write-behind queue (and its journal) until DynamoDB is back',
      metric: 'aybiza_memory_write_queue_depth',
      run: async () => {
        dynamo.setMode('unavailable');
        const calls = await Promise.all([0, 1].map(() => runCall(url, 'default', [plainTurn('One'), plainTurn('Two'), plainTurn('Three')])));
        await new Promise((resolve) => setTimeout(resolve, 300));
        dynamo.setMode('pass');
        return { calls, injected: dynamo.injected().dropped, ok: sameEveryTurn(calls, REPLY) };
      },
    },
  ];

  const runs: Array<{ scenario: Scenario; result: { calls: CallRun[]; injected: number; ok: boolean } }> = [];
  try {
    for (const scenario of scenarios) runs.push({ scenario, result: await scenario.run() });
    const emulatorRow = await runEmulatorRestart();
    await drained(test);
    const outcomes: FaultOutcome[] = [];
    for (const { scenario, result } of runs) {
      let itemsLost = 0;
      for (const call of result.calls) itemsLost += Math.max(0, call.expectedMessages - await countStoredMessages(dynalite.endpoint, tableName, call.callId));
      outcomes.push({
        fault: scenario.fault, callerExperience: scenario.callerExperience, metric: scenario.metric,
        injected: result.injected, calls: result.calls.length,
        silentCalls: result.calls.filter((call) => call.silentTurns > 0).length,
        itemsLost, ok: result.ok, heard: result.calls[0]?.heard ?? [],
      });
    }
    outcomes.push(emulatorRow);
    return outcomes;
  } finally {
    await test.close();
    await Promise.all([dynamo.close(), redis.close()]);
    await dynalite.close();
  }
}

async function drained(test: ReliabilityNode, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (test.node.memory.writeQueueDepth() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * The emulator (Bedrock) process is killed between two turns and started again on the same port:
 * the turn in between gets the canned answer, the one after the restart the model's answer.
 */
export async function runEmulatorRestart(): Promise<FaultOutcome> {
  const dir = tempDir('emulator-restart');
  const script = { ...fast, rules: [{ reply: REPLY }] };
  let emulator = await startEmulatorProcess(script, dir.dir);
  const dynalite = await startDynalite();
  const tableName = uniqueId('reliability-emulator');
  const test = await startReliabilityNode({
    config: {
      agents: { default: agent() },
      bedrock: { endpoint: emulator.url, idleTimeoutMs: 1_000, firstEventTimeoutMs: 1_000 },
      memory: { durable: 'aws', dynamoEndpoint: dynalite.endpoint, tableName },
    },
  });
  try {
    let injected = 0;
    const call = await runCall(test.url, 'default', [plainTurn('Hello'), plainTurn('Are you there?'), plainTurn('And now?')], async (index) => {
      if (index === 1) {
        await stopChild(emulator, 'SIGKILL');
        injected += 1;
      }
      if (index === 2) emulator = await startEmulatorProcess(script, dir.dir, emulator.port);
    });
    await drained(test);
    // The last turn's record is enqueued as the call ends, which can be after the queue read empty:
    // wait for it (bounded), so only a message that never arrives counts as lost.
    let stored = await countStoredMessages(dynalite.endpoint, tableName, call.callId);
    for (let attempt = 0; attempt < 50 && stored < call.expectedMessages; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await drained(test);
      stored = await countStoredMessages(dynalite.endpoint, tableName, call.callId);
    }
    return {
      fault: 'Bedrock emulator process killed, then restarted',
      callerExperience: "the agent's canned answer while it is down, normal answers after",
      metric: 'aybiza_fallback_hops_total{kind="canned"}',
      injected, calls: 1,
      silentCalls: call.silentTurns > 0 ? 1 : 0,
      itemsLost: Math.max(0, call.expectedMessages - stored),
      ok: call.heard[0] === REPLY && call.heard[1] === CANNED && call.heard[2] === REPLY,
      heard: call.heard,
    };
  } finally {
    await test.close();
    await stopChild(emulator);
    await dynalite.close();
    dir.remove();
  }
}
