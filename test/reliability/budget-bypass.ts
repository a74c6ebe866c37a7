import { getTokenizer } from '@anthropic-ai/tokenizer';
import type { CallSummary } from '../../src/metrics/call-summary.js';
import { CallerClient } from '../integration/caller-client.js';
import { capturingLogger, eventually } from '../memory/memory-fixtures.js';
import { metricValue, startReliabilityNode, uniqueId, type ReliabilityNode } from './reliability-node.js';

/** Maria Lopez in scenarios/fixtures/customers.json, so `lookup_customer` answers. */
const CALLER = '+15551000000';
/** A call's model requests as the caller drives them, well past the default 50 frames a second. */
const FAST_FRAMES = { server: { framesPerSecond: 100_000 } };

export interface BudgetRun {
  /** Model requests the emulator received for the call. */
  requests: number;
  aborted: number;
  /** Claude-tokenizer count of what those requests gave the model to read: system blocks, message texts, tool specs. */
  inputTokensSent: number;
  /** The call's ledger at its end (its `call.summary`). */
  ledger: { inputTokens: number; costUsd: number; requests: number };
  maxCostUsd: number | undefined;
  hangupReason: string | undefined;
  /** `aybiza_budget_refusals_total` by reason, counted during the run. */
  refusals: Record<string, number>;
  /** The longest caller message any request carried, in characters. */
  longestUserText: number;
  /** What each request was charged, in order (`model.usage` lines); `estimated` when Bedrock sent no usage. */
  charges: Array<{ costUsd: number; estimated: boolean }>;
  /** The text of the last `say` the caller got. */
  lastSay: string | undefined;
}

interface RequestBody {
  system?: Array<{ text?: string }>;
  messages: Array<{ role: string; content: Array<{ text?: string }> }>;
  toolConfig?: { tools: unknown[] };
}

let tokenizer: ReturnType<typeof getTokenizer> | undefined;

/** The input a request gives the model, counted by the tokenizer the runtime's own estimate uses (uncalibrated). */
function tokensRead(body: RequestBody): number {
  tokenizer ??= getTokenizer();
  const texts = [
    ...(body.system ?? []).map((block) => block.text ?? ''),
    ...body.messages.flatMap((message) => message.content.map((block) => block.text ?? '')),
    body.toolConfig ? JSON.stringify(body.toolConfig.tools) : '',
  ];
  return texts.reduce((sum, text) => sum + (text ? tokenizer!.encode(text.normalize('NFKC'), 'all').length : 0), 0);
}

async function refusalsOf(test: ReliabilityNode): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const reason of ['cost', 'model_requests', 'tool_rounds']) out[reason] = await metricValue(test, 'aybiza_budget_refusals_total', { reason });
  return out;
}

async function summarise(test: ReliabilityNode, lines: () => Array<Record<string, unknown>>, callId: string, caller: CallerClient, maxCostUsd: number | undefined, before: Record<string, number>): Promise<BudgetRun> {
  await eventually(() => lines().some((line) => line.event === 'call.summary' && line.callId === callId), 15_000);
  const summary = lines().find((line) => line.event === 'call.summary' && line.callId === callId) as unknown as CallSummary;
  const requests = test.requests(callId);
  const after = await refusalsOf(test);
  const userTexts = requests.flatMap((request) => (request.body as { messages: Array<{ role: string; content: Array<{ text?: string }> }> }).messages
    .filter((message) => message.role === 'user').flatMap((message) => message.content.map((block) => block.text?.length ?? 0)));
  const hangup = caller.frames.find((frame) => frame.type === 'hangup');
  return {
    requests: requests.length,
    aborted: requests.filter((request) => request.aborted).length,
    inputTokensSent: requests.reduce((sum, request) => sum + tokensRead(request.body as RequestBody), 0),
    ledger: { inputTokens: summary.tokens.input, costUsd: summary.costUsd, requests: summary.modelRequests },
    maxCostUsd,
    hangupReason: hangup?.type === 'hangup' ? hangup.reason : undefined,
    refusals: Object.fromEntries(Object.entries(after).map(([reason, count]) => [reason, count - (before[reason] ?? 0)])),
    longestUserText: Math.max(0, ...userTexts),
    lastSay: caller.frames.filter((frame) => frame.type === 'say').map((frame) => (frame.type === 'say' ? frame.text : '')).at(-1),
    charges: lines().filter((line) => line.event === 'model.usage' && line.callId === callId)
      .map((line) => ({ costUsd: line.costUsd as number, estimated: line.estimated as boolean })),
  };
}

/**
 * The barge-in loop of issue 18: a 3,999-character final transcript, then `speech_started` as soon
 * as the request reaches Bedrock (the emulator waits 10 s before its first token, so every request is
 * aborted), up to `attempts` times or until the call is hung up.
 */
export async function runBargeInLoop(options: { attempts: number; maxCostUsd: number }): Promise<BudgetRun> {
  const { log, lines } = capturingLogger();
  const test = await startReliabilityNode({
    log,
    script: { ttftMs: 10_000, rules: [{ reply: 'You will not hear this.' }] },
    config: { ...FAST_FRAMES, agents: { default: { systemPrompt: 'You are the receptionist.', maxCostUsd: options.maxCostUsd } } },
  });
  try {
    const before = await refusalsOf(test);
    const callId = uniqueId('barge-in-loop');
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId, from: CALLER });
    const words = 'please tell me everything about every appointment you have ever had '.repeat(60);
    for (let attempt = 0; attempt < options.attempts; attempt++) {
      if (caller.frames.some((frame) => frame.type === 'hangup')) break;
      caller.send({ type: 'transcript', text: `${attempt} ${words}`.slice(0, 3_999), final: true });
      await eventually(() => test.requests(callId).length > attempt || caller.frames.some((frame) => frame.type === 'hangup'));
      caller.send({ type: 'speech_started' });
    }
    await caller.closed();
    return await summarise(test, lines, callId, caller, options.maxCostUsd, before);
  } finally {
    await test.close();
  }
}

/**
 * A model that answers every request with a tool use (the emulator script has no other rule), one
 * caller turn: stopped by `maxToolRoundsPerTurn` when `maxCostUsd` is unset, else by the budget.
 */
export async function runToolLoop(options: { maxCostUsd?: number; maxToolRoundsPerTurn?: number }): Promise<BudgetRun> {
  const { log, lines } = capturingLogger();
  const test = await startReliabilityNode({
    log,
    script: { ttftMs: 1, tokensPerSecond: 1_000_000, rules: [{ toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } }] },
    config: {
      ...FAST_FRAMES,
      agents: { default: { systemPrompt: 'You are the receptionist.', tools: ['lookup_customer'], maxCostUsd: options.maxCostUsd, maxToolRoundsPerTurn: options.maxToolRoundsPerTurn } },
    },
  });
  try {
    const before = await refusalsOf(test);
    const callId = uniqueId('tool-loop');
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId, from: CALLER });
    await caller.turn('Look up my account');
    if (!caller.frames.some((frame) => frame.type === 'hangup')) caller.send({ type: 'hangup' });
    await caller.closed();
    return await summarise(test, lines, callId, caller, options.maxCostUsd, before);
  } finally {
    await test.close();
  }
}

export interface IdleRun {
  silentCalls: number;
  /** Silent calls that heard the reprompt, then the goodbye, then `hangup(idle)`, in that order. */
  reaped: number;
  /** From `ready` to `hangup(idle)`, slowest silent call. */
  slowestReapMs: number;
  /** Turns the talking call completed while the silent ones were reaped, and whether it was ever reprompted. */
  talkingTurns: number;
  talkingReprompted: boolean;
  activeAfter: number;
  endedIdle: number;
}

/**
 * `silentCalls` calls that say nothing after `start` and one that keeps talking, on a node whose
 * agent reprompts after `idleRepromptMs` and hangs up after `idleHangupMs`.
 */
export async function runIdleCalls(options: { silentCalls: number; idleRepromptMs: number; idleHangupMs: number }): Promise<IdleRun> {
  const test = await startReliabilityNode({
    script: { ttftMs: 1, rules: [{ reply: 'Sure.' }] },
    config: { agents: { default: { systemPrompt: 'You are the receptionist.', idleRepromptMs: options.idleRepromptMs, idleHangupMs: options.idleHangupMs, idleReprompt: 'Are you still there?', idleGoodbye: 'Goodbye.' } } },
  });
  try {
    const talking = await CallerClient.connect(test.url);
    await talking.start({ callId: uniqueId('talking') });
    let talkingTurns = 0;
    let allHungUp = false;
    // The talking caller speaks more often than the reprompt delay, so it is never reprompted.
    const talk = (async () => {
      while (!allHungUp) {
        await talking.turn(`Question ${talkingTurns}`);
        talkingTurns += 1;
        await new Promise((resolve) => setTimeout(resolve, options.idleRepromptMs / 4));
      }
    })();
    const silent = await Promise.all(Array.from({ length: options.silentCalls }, async () => {
      const caller = await CallerClient.connect(test.url);
      await caller.start({ callId: uniqueId('silent') });
      const readyAt = performance.now();
      const hangup = caller.next((frame) => frame.type === 'hangup', options.idleHangupMs * 10 + 10_000).then(() => performance.now() - readyAt);
      return { caller, hangup };
    }));
    const reapMs = await Promise.all(silent.map(({ hangup }) => hangup)).finally(() => (allHungUp = true));
    await talk;
    const reaped = silent.filter(({ caller }) => {
      const said = caller.frames.filter((frame) => frame.type === 'say' || frame.type === 'hangup')
        .map((frame) => (frame.type === 'say' ? frame.text : `hangup:${frame.reason}`));
      return JSON.stringify(said) === JSON.stringify(['Are you still there?', 'Goodbye.', 'hangup:idle']);
    }).length;
    await Promise.all(silent.map(({ caller }) => caller.closed()));
    await eventually(() => test.node.calls.active() === 1);
    const result: IdleRun = {
      silentCalls: options.silentCalls,
      reaped,
      slowestReapMs: Math.max(...reapMs),
      talkingTurns,
      talkingReprompted: talking.frames.some((frame) => frame.type === 'say' && frame.text === 'Are you still there?'),
      activeAfter: test.node.calls.active(),
      endedIdle: await metricValue(test, 'aybiza_calls_ended_total', { outcome: 'idle' }),
    };
    talking.send({ type: 'hangup' });
    await talking.closed();
    return result;
  } finally {
    await test.close();
  }
}
