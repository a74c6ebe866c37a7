import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFixturesDir } from '../../src/config/schema.js';
import { DEFAULT_INDEX_ID, DEFAULT_KNOWLEDGE_BASE_ID, startKnowledgeEmulator, type RunningKnowledgeEmulator } from '../../src/emulator/knowledge/server.js';
import { createBuiltinTools } from '../../src/tools/builtin/index.js';
import { createKendraClient, createKnowledgeBaseClient, createKnowledgeSearchTool, NOT_KNOWN, type AgentKnowledge } from '../../src/tools/backends/knowledge.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import type { ToolDefinition, ToolRunResult } from '../../src/tools/types.js';

let emulator: RunningKnowledgeEmulator;
let tool: ToolDefinition;
const kendra = () => createKendraClient({ region: 'us-east-1', endpoint: emulator.url, credentials: 'emulator' });
const kb = () => createKnowledgeBaseClient({ region: 'us-east-1', endpoint: emulator.url, credentials: 'emulator' });
const clients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  emulator = await startKnowledgeEmulator({ documentsDir: defaultFixturesDir() });
  const kendraClient = kendra();
  const kbClient = kb();
  clients.push(kendraClient, kbClient);
  const byAgent = new Map<string, AgentKnowledge>([
    ['front-desk', { source: { backend: 'kendra', client: kendraClient, indexId: DEFAULT_INDEX_ID }, minScore: 0.25, maxResults: 3, timeoutMs: 5_000 }],
    ['billing', { source: { backend: 'bedrock-kb', client: kbClient, knowledgeBaseId: DEFAULT_KNOWLEDGE_BASE_ID }, minScore: 0.3, maxResults: 3, timeoutMs: 5_000 }],
    ['strict', { source: { backend: 'bedrock-kb', client: kbClient, knowledgeBaseId: DEFAULT_KNOWLEDGE_BASE_ID }, minScore: 0.99, maxResults: 3, timeoutMs: 5_000 }],
    ['misconfigured', { source: { backend: 'bedrock-kb', client: kbClient, knowledgeBaseId: 'NOSUCHKB' }, minScore: 0.3, maxResults: 3, timeoutMs: 5_000 }],
  ]);
  const fallback = (await createBuiltinTools({ fixturesDir: defaultFixturesDir() })).find((builtin) => builtin.name === 'search_knowledge')!;
  tool = createKnowledgeSearchTool(byAgent, fallback);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await emulator.close();
});

const search = async (agent: string, query: string): Promise<ToolRunResult> => {
  const [result] = await executeToolUses(createToolRegistry([tool]), [{ toolUseId: 't1', name: 'search_knowledge', input: { query } }],
    { callId: 'call-1', agent }, { signal: new AbortController().signal, defaultTimeoutMs: 5_000, maxResultBytes: 16_384 });
  return result!;
};

describe('search_knowledge on Kendra or a Bedrock knowledge base, per agent', () => {
  it('answers from Kendra with a sentence citing the document, and its URI', async () => {
    const result = await search('front-desk', 'What is your cancellation policy?');
    expect(result).toMatchObject({ status: 'success', backend: 'kendra' });
    expect(result.content).toMatchObject({
      answer: "According to our Cancellation and rescheduling policy: Please give at least twenty-four hours' notice to cancel or reschedule. Cancellations with less notice, and missed appointments, carry a twenty-five dollar fee. The first late cancellation each year is waived.",
      citation: 'Cancellation and rescheduling policy (s3://aybiza-knowledge/knowledge.json#cancellation-policy)',
    });
    expect(emulator.retrievals().at(-1)).toMatchObject({ api: 'kendra', id: DEFAULT_INDEX_ID, query: 'What is your cancellation policy?', outcome: 'success' });
  });

  it('answers from a knowledge base with passages ranked by score, best first', async () => {
    const result = await search('billing', 'Which insurance plans do you accept?');
    expect(result.backend).toBe('bedrock-kb');
    const content = result.content as { citation: string; results: Array<{ score: number; title: string }> };
    expect(content.citation).toBe('Insurance plans we accept (s3://aybiza-knowledge/knowledge.json#insurance)');
    const scores = content.results.map((passage) => passage.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((score) => score >= 0.3)).toBe(true);
  });

  it('says it does not know when nothing scores above the threshold', async () => {
    const result = await search('strict', 'Which insurance plans do you accept?');
    expect(result.content).toEqual({ answer: NOT_KNOWN, results: [], note: 'Nothing scored at least 0.99; do not guess.' });
  });

  it('turns an unknown knowledge base and a throttle into tool errors', async () => {
    expect((await search('misconfigured', 'hours')).content).toEqual({ error: 'search_knowledge failed: Knowledge base with id NOSUCHKB does not exist' });
    emulator.failNext('ThrottlingException');
    expect((await search('front-desk', 'hours')).content).toEqual({ error: 'search_knowledge failed: Rate exceeded' });
  });

  it('keeps the fixture search for an agent without a knowledge base', async () => {
    const before = emulator.retrievals().length;
    const result = await search('default', 'cancellation policy');
    expect(result.backend).toBe('builtin');
    expect((result.content as { results: Array<{ id: string }> }).results[0]!.id).toBe('cancellation-policy');
    expect(emulator.retrievals()).toHaveLength(before);
  });
});
