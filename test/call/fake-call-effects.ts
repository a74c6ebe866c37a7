import { Subject, finalize } from 'rxjs';
import { createActor, type SimulatedClock, type Snapshot } from 'xstate';
import type { CallInput } from '../../src/call/context.js';
import {
  createCallMachine, withCallEffects, type AgentPolicy, type CallEffects, type CallMachine, type CallPolicy, type GenerateInput, type LimitReason, type RunToolsInput,
} from '../../src/call/machine.js';
import type { TurnEvent } from '../../src/call/events.js';
import type { ChatMessage } from '../../src/llm/messages.js';
import type { OutboundFrame } from '../../src/protocol/frames.js';
import type { ToolRunResult } from '../../src/tools/types.js';

/**
 * Call effects for machine tests: the model is a Subject per round that the test scripts by hand
 * (a fake, named as one; integration tests use the real emulator and SDK), and every frame and
 * recorded message is captured.
 */
/** The agent of machine tests: no cost budget, generous caps, and the idle timers off unless a test turns them on. */
export const FAKE_AGENT: AgentPolicy = {
  cannedAnswer: "Sorry, I'm having trouble. Could you say that again?",
  maxCostUsd: undefined,
  actOnDtmf: true,
  maxToolRoundsPerTurn: 8,
  maxModelRequestsPerCall: 500,
  maxUtteranceChars: 4_000,
  idleRepromptMs: 0,
  idleHangupMs: 0,
  idleReprompt: 'Are you still there?',
  idleGoodbye: 'Goodbye for now.',
};

export function fakeCallEffects(overrides: Partial<CallEffects & CallPolicy> = {}, agent: Partial<AgentPolicy> = {}) {
  const frames: OutboundFrame[] = [];
  const recorded: ChatMessage[][] = [];
  const rounds: Array<{ input: GenerateInput; model: Subject<TurnEvent>; closed: boolean }> = [];
  const toolRuns: RunToolsInput[] = [];
  const limits: LimitReason[] = [];
  let maxCostUsd: number | undefined;

  const world: CallEffects & CallPolicy = {
    chooseModel: () => ({ modelRef: 'sonnet', modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1', tried: [] }),
    generate: (input) => {
      const model = new Subject<TurnEvent>();
      const round = { input, model, closed: false };
      rounds.push(round);
      return model.pipe(finalize(() => (round.closed = true)));
    },
    runTools: async (input: RunToolsInput): Promise<ToolRunResult[]> => {
      toolRuns.push(input);
      return input.uses.map((use) => ({
        toolUseId: use.toolUseId, name: use.name, status: 'success', content: { ok: true }, durationMs: 1, outcome: 'success',
        ...(use.name === 'transfer_call' ? { transfer: { to: 'front-desk', reason: 'asked for a person' } } : {}),
      }));
    },
    planFallback: (choice, error) =>
      error.recovery === 'none' || choice.tried.length >= 2
        ? { kind: 'canned', reason: 'exhausted' }
        : {
            kind: 'retry',
            hop: 'region',
            reason: error.code,
            choice: { ...choice, region: 'us-west-2', tried: [...choice.tried, { modelId: choice.modelId, region: choice.region, code: error.code }] },
          },
    toolResultBlocks: (results) =>
      results.map((result) => ({ toolResult: { toolUseId: result.toolUseId, content: [{ json: result.content }], status: result.status } })),
    fillerFor: (names) => (names.includes('lookup_customer') ? 'One moment while I look that up.' : undefined),
    price: () => 0.01,
    record: (_callId, messages) => void recorded.push(messages),
    turnStarted: () => undefined,
    firstSay: () => undefined,
    bargeIn: () => undefined,
    fallbackTaken: () => undefined,
    limitReached: (_context, reason) => void limits.push(reason),
    now: () => performance.timeOrigin + performance.now(),
    agentPolicy: () => ({ ...FAKE_AGENT, maxCostUsd, ...agent }),
    ...overrides,
  };

  const machine: CallMachine = withCallEffects(createCallMachine(world), world);
  /** An actor of the bound machine whose emitted frames are captured in `frames`. */
  const actor = (options: { input: CallInput; snapshot?: Snapshot<unknown>; clock?: SimulatedClock }) => {
    const { clock, ...rest } = options;
    const started = createActor(machine, clock ? { ...rest, clock } : rest);
    started.on('frame', ({ frame }) => void frames.push(frame));
    return started;
  };

  return {
    policy: world,
    machine,
    actor,
    frames,
    recorded,
    rounds,
    toolRuns,
    limits,
    setMaxCost: (usd: number) => (maxCostUsd = usd),
    says: () => frames.filter((frame): frame is Extract<OutboundFrame, { type: 'say' }> => frame.type === 'say'),
    lastRound: () => {
      const round = rounds.at(-1);
      if (!round) throw new Error('no model round was started');
      return round;
    },
  };
}

export const usage = { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };

export const done = (saidLast: boolean, toolUses: Array<{ toolUseId: string; name: string; input: unknown }> = [], reported = usage): TurnEvent => ({
  type: 'model.done', stopReason: toolUses.length > 0 ? 'tool_use' : 'end_turn', toolUses, usage: reported, saidLast,
});
