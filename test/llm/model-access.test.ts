import { BedrockClient } from '@aws-sdk/client-bedrock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { checkModelAccess, verifyModelAccess } from '../../src/llm/model-access.js';

let emulator: RunningEmulator;
let client: BedrockClient;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

beforeAll(async () => {
  emulator = await startEmulator({ deniedControlPlaneIds: ['us.anthropic.claude-opus-4-5-20251101-v1:0'] });
  client = new BedrockClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
});

describe('the start-up check against the Bedrock control plane', () => {
  it('reports an Active model reached through its profile, and a Legacy one with its lifecycle', async () => {
    const results = await checkModelAccess(client, 'us-east-1', [
      { path: 'agents.default.model', modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', baseModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0' },
      { path: 'router.complexModel', modelId: 'us.anthropic.claude-opus-4-1-20250805-v1:0', baseModelId: 'anthropic.claude-opus-4-1-20250805-v1:0' },
    ]);
    expect(results).toEqual([
      { path: 'agents.default.model', modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', ok: true, lifecycle: 'ACTIVE' },
      { path: 'router.complexModel', modelId: 'us.anthropic.claude-opus-4-1-20250805-v1:0', ok: true, lifecycle: 'LEGACY' },
    ]);
  });

  it('names the model, the region and the missing IAM action when access is denied', async () => {
    const [result] = await checkModelAccess(client, 'us-east-1', [
      { path: 'router.complexModel', modelId: 'us.anthropic.claude-opus-4-5-20251101-v1:0', baseModelId: 'anthropic.claude-opus-4-5-20251101-v1:0' },
    ]);
    expect(result).toMatchObject({ ok: false });
    expect(result!.ok ? '' : result!.problem).toMatch(/router\.complexModel: inference profile us\.anthropic\.claude-opus-4-5-20251101-v1:0 in us-east-1: access denied — the role needs bedrock:GetInferenceProfile/);
  });

  it('reports a retired model as not offered', async () => {
    const [result] = await checkModelAccess(client, 'us-east-1', [
      { path: 'agents.old.model', modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', baseModelId: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
    ]);
    expect(result!.ok ? '' : result!.problem).toMatch(/agents\.old\.model: model anthropic\.claude-3-5-haiku-20241022-v1:0 is not offered in us-east-1/);
  });
});

describe('serve start-up in aws mode', () => {
  it('refuses to start, naming each model it cannot call, and warns for Legacy ones', async () => {
    const denied = verifyModelAccess({ region: 'us-east-1', endpoint: emulator.url, credentials, models: [
      { path: 'router.complexModel', modelId: 'us.anthropic.claude-opus-4-5-20251101-v1:0', baseModelId: 'anthropic.claude-opus-4-5-20251101-v1:0' },
    ] });
    await expect(denied).rejects.toThrow(/router\.complexModel: .*us-east-1: access denied — the role needs bedrock:GetInferenceProfile/);
    const warnings = await verifyModelAccess({ region: 'us-east-1', endpoint: emulator.url, credentials, models: [
      { path: 'agents.default.model', modelId: 'us.anthropic.claude-opus-4-1-20250805-v1:0', baseModelId: 'anthropic.claude-opus-4-1-20250805-v1:0' },
    ] });
    expect(warnings).toEqual(['agents.default.model: us.anthropic.claude-opus-4-1-20250805-v1:0 is Legacy on Bedrock']);
  });
});
