import type { BedrockRuntimeClient, ContentBlock, Message, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { join } from 'node:path';
import { DEFAULT_AGENT } from '../../src/config/schema.js';
import { createBuiltinTools } from '../../src/tools/builtin/index.js';
import { executeToolUses, toToolResultBlocks } from '../../src/tools/executor.js';
import type { ToolPolicy } from '../../src/tools/policy.js';
import { createToolRegistry, type ToolRegistry } from '../../src/tools/registry.js';
import { SONNET, streamEvents, textOf } from './sdk-client.js';

const FIXTURES = join(import.meta.dirname, '../../scenarios/fixtures');

/** One caller line and what came of it: the tools the model used (with their outcomes) and the words it said. */
export interface HeardTurn {
  caller: string;
  tools: Array<{ name: string; input: unknown; outcome: string }>;
  agent: string;
}

export interface ReceptionistCallOptions {
  client: BedrockRuntimeClient;
  /** The built-in tools' clock, the same instant the emulator is pinned to. */
  nowMs: number;
  /** Tool names to declare; default the demo agent's. */
  tools?: string[];
  system?: string;
  from?: string;
  callId: string;
  /** The agent's tool policy, as a call carries it; none runs the tools unrestricted. */
  policy?: ToolPolicy;
}

/**
 * A call to the emulator's receptionist the way the runtime holds it: the whole history in every
 * request, each tool use run by the real built-in tools through the real executor, and the
 * results sent back until the model answers in words.
 */
export async function receptionistCall(lines: string[], options: ReceptionistCallOptions): Promise<HeardTurn[]> {
  const registry: ToolRegistry = createToolRegistry(await createBuiltinTools({ fixturesDir: FIXTURES, now: () => options.nowMs }));
  const names = options.tools ?? DEFAULT_AGENT.tools;
  const system: SystemContentBlock[] = [{ text: options.system ?? DEFAULT_AGENT.systemPrompt }];
  const messages: Message[] = [];
  const heard: HeardTurn[] = [];
  for (const [turn, caller] of lines.entries()) {
    messages.push({ role: 'user', content: [{ text: caller }] });
    const said: string[] = [];
    const tools: HeardTurn['tools'] = [];
    for (let round = 0; round < 20; round++) {
      const { events, error } = await streamEvents(options.client, {
        modelId: SONNET,
        system,
        messages,
        ...(names.length > 0 ? { toolConfig: { tools: registry.specsFor(names) } } : {}),
        requestMetadata: { callId: options.callId, turn: String(turn + 1), agent: 'default', ...(options.from ? { from: options.from } : {}) },
      });
      if (error) throw error;
      const text = textOf(events);
      const uses = events.flatMap((event) => (event.contentBlockStart?.start?.toolUse ? [event.contentBlockStart] : [])).map((start) => ({
        toolUseId: start.start!.toolUse!.toolUseId!,
        name: start.start!.toolUse!.name!,
        input: JSON.parse(events.flatMap((event) => (event.contentBlockDelta?.contentBlockIndex === start.contentBlockIndex ? [event.contentBlockDelta?.delta?.toolUse?.input ?? ''] : [])).join('') || '{}') as unknown,
      }));
      if (text) said.push(text);
      const content: ContentBlock[] = [...(text ? [{ text }] : []), ...uses.map((use) => ({ toolUse: { ...use, input: use.input as never } }))];
      messages.push({ role: 'assistant', content });
      if (uses.length === 0) break;
      const results = await executeToolUses(registry, uses, { callId: options.callId, agent: 'default', ...(options.from ? { from: options.from } : {}), ...(options.policy ? { policy: options.policy } : {}) },
        { signal: new AbortController().signal, defaultTimeoutMs: 5_000, maxResultBytes: 64_000 });
      for (const result of results) tools.push({ name: result.name, input: uses.find((use) => use.toolUseId === result.toolUseId)!.input, outcome: result.outcome });
      messages.push({ role: 'user', content: toToolResultBlocks(results) as ContentBlock[] });
    }
    heard.push({ caller, tools, agent: said.join(' ') });
  }
  return heard;
}
