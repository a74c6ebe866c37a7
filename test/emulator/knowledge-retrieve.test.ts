import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockAgentRuntimeClient, RetrieveCommand as KnowledgeBaseRetrieve, ResourceNotFoundException as KbNotFound, ThrottlingException as KbThrottling, ValidationException as KbValidation } from '@aws-sdk/client-bedrock-agent-runtime';
import { KendraClient, RetrieveCommand as KendraRetrieve, ResourceNotFoundException as KendraNotFound, ThrottlingException as KendraThrottling } from '@aws-sdk/client-kendra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFixturesDir } from '../../src/config/schema.js';
import { DEFAULT_INDEX_ID, DEFAULT_KNOWLEDGE_BASE_ID, startKnowledgeEmulator, type RunningKnowledgeEmulator } from '../../src/emulator/knowledge/server.js';

const credentials = { accessKeyId: 'emulator', secretAccessKey: 'emulator' };
let emulator: RunningKnowledgeEmulator;
let kendra: KendraClient;
let kb: BedrockAgentRuntimeClient;

beforeAll(async () => {
  emulator = await startKnowledgeEmulator({ documentsDir: defaultFixturesDir() });
  kendra = new KendraClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1, credentials });
  kb = new BedrockAgentRuntimeClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1, credentials });
});

afterAll(async () => {
  kendra.destroy();
  kb.destroy();
  await emulator.close();
});

describe('the knowledge emulator through the real Kendra and Bedrock Agent Runtime clients', () => {
  it('answers Kendra Retrieve with passages ranked by BM25, titles, URIs and confidence buckets', async () => {
    const output = await kendra.send(new KendraRetrieve({ IndexId: DEFAULT_INDEX_ID, QueryText: 'What is your cancellation policy?', PageSize: 3 }));
    const first = output.ResultItems![0]!;
    expect(first).toMatchObject({
      DocumentId: 'cancellation-policy',
      DocumentTitle: 'Cancellation and rescheduling policy',
      DocumentURI: 's3://aybiza-knowledge/knowledge.json#cancellation-policy',
      ScoreAttributes: { ScoreConfidence: 'HIGH' },
    });
    expect(first.Content).toMatch(/^Please give at least twenty-four hours' notice/);
    expect(output.ResultItems!.length).toBeLessThanOrEqual(3);
    expect(output.QueryId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers Knowledge Bases Retrieve with the same ranking, scores between 0 and 1 and S3 locations', async () => {
    const output = await kb.send(new KnowledgeBaseRetrieve({ knowledgeBaseId: DEFAULT_KNOWLEDGE_BASE_ID, retrievalQuery: { text: 'Do you take Cigna insurance?' }, retrievalConfiguration: { vectorSearchConfiguration: { numberOfResults: 2 } } }));
    const results = output.retrievalResults!;
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ content: { type: 'TEXT' }, location: { type: 'S3', s3Location: { uri: 's3://aybiza-knowledge/knowledge.json#insurance' } }, documentId: 'insurance' });
    expect(results[0]!.score!).toBeGreaterThan(results[1]!.score!);
    expect(results[0]!.score!).toBeLessThan(1);
  });

  it('returns nothing for a query that shares no term with any passage', async () => {
    const output = await kb.send(new KnowledgeBaseRetrieve({ knowledgeBaseId: DEFAULT_KNOWLEDGE_BASE_ID, retrievalQuery: { text: 'zebra xylophone' } }));
    expect(output.retrievalResults).toEqual([]);
  });

  it('refuses an unknown index or knowledge base with ResourceNotFoundException', async () => {
    await expect(kendra.send(new KendraRetrieve({ IndexId: '11111111-0000-4000-8000-000000000000', QueryText: 'hours' }))).rejects.toBeInstanceOf(KendraNotFound);
    const missing = kb.send(new KnowledgeBaseRetrieve({ knowledgeBaseId: 'NOSUCHKB', retrievalQuery: { text: 'hours' } }));
    await expect(missing).rejects.toBeInstanceOf(KbNotFound);
    await expect(kb.send(new KnowledgeBaseRetrieve({ knowledgeBaseId: 'NOSUCHKB', retrievalQuery: { text: 'hours' } }))).rejects.toThrow('Knowledge base with id NOSUCHKB does not exist');
  });

  it('refuses an empty query with ValidationException', async () => {
    await expect(kb.send(new KnowledgeBaseRetrieve({ knowledgeBaseId: DEFAULT_KNOWLEDGE_BASE_ID, retrievalQuery: { text: '' } }))).rejects.toBeInstanceOf(KbValidation);
  });

  it('throttles injected requests with each service\'s ThrottlingException', async () => {
    emulator.failNext('ThrottlingException', 2);
    await expect(kendra.send(new KendraRetrieve({ IndexId: DEFAULT_INDEX_ID, QueryText: 'hours' }))).rejects.toBeInstanceOf(KendraThrottling);
    await expect(kb.send(new KnowledgeBaseRetrieve({ knowledgeBaseId: DEFAULT_KNOWLEDGE_BASE_ID, retrievalQuery: { text: 'hours' } }))).rejects.toBeInstanceOf(KbThrottling);
    expect(emulator.retrievals().slice(-2).map((record) => record.outcome)).toEqual(['ThrottlingException', 'ThrottlingException']);
  });

  it('serves Markdown documents one passage per paragraph, titled by their heading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aybiza-knowledge-'));
    writeFileSync(join(dir, 'parking.md'), '# Parking guide\n\nThe car park is behind the building.\n\nBicycles go by the front door.\n');
    const own = await startKnowledgeEmulator({ documentsDir: dir, uriPrefix: 'https://docs.example/' });
    const client = new KendraClient({ endpoint: own.url, region: 'us-east-1', maxAttempts: 1, credentials });
    try {
      const output = await client.send(new KendraRetrieve({ IndexId: DEFAULT_INDEX_ID, QueryText: 'bicycles' }));
      expect(output.ResultItems!.map((item) => [item.DocumentTitle, item.Content, item.DocumentURI])).toEqual([['Parking guide', 'Bicycles go by the front door.', 'https://docs.example/parking.md']]);
    } finally {
      client.destroy();
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
