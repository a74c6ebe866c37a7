import { Subject, finalize } from 'rxjs';
import { createActor, type Snapshot } from 'xstate';
import type { CallInput } from '../../src/call/context.js';
import {
  createCallMachine, withCallEffects, type CallEffects, type CallMachine, type CallPolicy, type GenerateInput, type RunToolsInput,
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
export function fakeCallEffects(overrides: Partial<CallEffects & CallPolicy> = {}) {
  const frames: OutboundFrame[] = [];
  const recorded: ChatMessage[][] = [];
  const rounds: Array<{ input: GenerateInput; model: Subject<TurnEvent>; closed: boolean }> = [];
  const toolRuns: RunToolsInput[] = [];
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
    now: () => performance.timeOrigin + performance.now(),
    agentPolicy: () => ({ cannedAnswer: "Sorry, I'm having trouble. Could you say that again?", maxCostUsd, actOnDtmf: true }),
    ...overrides,
  };

  const machine: CallMachine = withCallEffects(createCallMachine(world), world);
  /** An actor of the bound machine whose emitted frames are captured in `frames`. */
  const actor = (options: { input: CallInput; snapshot?: Snapshot<unknown> }) => {
    const started = createActor(machine, options);
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

export const done = (saidLast: boolean, toolUses: Array<{ toolUseId: string; name: string; input: unknown }> = []): TurnEvent => ({
  type: 'model.done', stopReason: toolUses.length > 0 ? 'tool_use' : 'end_turn', toolUses, usage, saidLast,
});
