import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configSchema, DEFAULT_SYSTEM_PROMPT } from '../../src/config/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'aybiza-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('configuration precedence', () => {
  it('runs on defaults alone in emulator mode with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, metricsPort: 9464, apiKeys: [], maxCalls: 5000 });
    expect(config.bedrock).toMatchObject({ mode: 'emulator', region: 'us-east-1', fallbackRegion: 'us-west-2', requestHandler: 'h2-shared', decoder: 'lean' });
    expect(config.memory).toMatchObject({ hot: 'auto', durable: 'embedded', redisUrl: 'redis://127.0.0.1:6379', writeBehind: { maxBatch: 25 } });
    expect(config.log.level).toBe('info');
    expect(isAbsolute(config.tools.fixturesDir) && config.tools.fixturesDir.endsWith(join('scenarios', 'fixtures'))).toBe(true);
  });

  it('takes a minimal agent of just a model, with a plain phone-assistant prompt', () => {
    const file = writeJson('minimal.json', { agents: { default: { model: 'haiku' } } });
    const config = loadConfig({ file, env: {} });
    expect(config.agents.default).toMatchObject({ model: 'haiku', systemPrompt: DEFAULT_SYSTEM_PROMPT, tools: [] });
  });

  it('ships the Harbor Dental demo as the default agent', () => {
    const { agents } = loadConfig({ env: {} });
    expect(agents.default).toMatchObject({
      model: 'sonnet', maxTokens: 1024, windowMessages: 20, dtmf: { speakDigits: true },
      tools: ['lookup_customer', 'book_appointment', 'search_knowledge', 'transfer_call'],
    });
    expect(agents.default!.systemPrompt).toContain('Harbor Dental');
    expect(agents.default!.cannedAnswer).toBe("Sorry, I'm having trouble right now. Could you say that again in a moment?");
  });

  it('layers defaults < file < env < flags < overrides', () => {
    const file = writeJson('layers.json', { server: { host: '0.0.0.0', port: 7000, metricsPort: 7001, maxCalls: 10 }, log: { level: 'debug' } });
    const config = loadConfig({
      file,
      env: { AYBIZA_PORT: '7100', AYBIZA_METRICS_PORT: '7101', AYBIZA_LOG_LEVEL: 'warn' },
      flags: { port: '7200' },
      overrides: { log: { level: 'error' } },
    });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 7200, metricsPort: 7101, maxCalls: 10, backlog: 2048 });
    expect(config.log.level).toBe('error');
  });

  it('reads the file named by AYBIZA_CONFIG', () => {
    const file = writeJson('from-env.json', { server: { port: 7300 } });
    expect(loadConfig({ env: { AYBIZA_CONFIG: file } }).server.port).toBe(7300);
  });

  it('maps each documented environment variable to its field', () => {
    const config = loadConfig({
      env: {
        AYBIZA_HOST: '0.0.0.0', AYBIZA_API_KEYS: ' key-one-123, key-two-456 ,', AYBIZA_MAX_CALLS: '12',
        AYBIZA_BEDROCK_MODE: 'emulator', AYBIZA_BEDROCK_ENDPOINT: 'http://127.0.0.1:4000', AWS_DEFAULT_REGION: 'eu-west-1',
        AYBIZA_FALLBACK_REGION: 'eu-central-1', AYBIZA_MODEL: 'haiku', AYBIZA_REDIS_URL: 'redis://:pw@10.0.0.1:6380',
        AYBIZA_DATA_DIR: '/var/lib/aybiza', AYBIZA_LOG_LEVEL: 'silent', AYBIZA_BEDROCK_DECODER: 'sdk', AYBIZA_TRANSCRIBE_ENCODER: 'sdk',
      },
    });
    expect(config.server).toMatchObject({ host: '0.0.0.0', apiKeys: ['key-one-123', 'key-two-456'], maxCalls: 12 });
    expect(config.bedrock).toMatchObject({ mode: 'emulator', endpoint: 'http://127.0.0.1:4000', region: 'eu-west-1', fallbackRegion: 'eu-central-1', decoder: 'sdk' });
    expect(config.agents.default).toMatchObject({ model: 'haiku', tools: ['lookup_customer', 'book_appointment', 'search_knowledge', 'transfer_call'] });
    expect(config.memory).toMatchObject({ redisUrl: 'redis://:pw@10.0.0.1:6380', dataDir: '/var/lib/aybiza' });
    expect(config.log.level).toBe('silent');
    expect(config.speech.transcribeEncoder).toBe('sdk');
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION', () => {
    expect(loadConfig({ env: { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1' } }).bedrock.region).toBe('us-west-2');
  });

  it.each([
    ['AWS_ACCESS_KEY_ID', 'AKIAEXAMPLE'], ['AWS_PROFILE', 'prod'], ['AWS_WEB_IDENTITY_TOKEN_FILE', '/var/run/token'],
    ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', '/v2/credentials'], ['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'http://169.254.170.23/v1'],
  ])('resolves auto mode to aws when %s is set, with durable memory on DynamoDB and no fallback region invented', (name, value) => {
    const config = loadConfig({ env: { [name]: value, AWS_REGION: 'us-east-1' } });
    expect(config.bedrock).toMatchObject({ mode: 'aws', region: 'us-east-1' });
    expect(config.bedrock.fallbackRegion).toBeUndefined();
    expect(config.memory.durable).toBe('aws');
  });

  it('lets an explicit mode win over detected credentials', () => {
    expect(loadConfig({ env: { AWS_PROFILE: 'prod', AYBIZA_BEDROCK_MODE: 'emulator' } }).bedrock.mode).toBe('emulator');
    expect(loadConfig({ env: { AYBIZA_BEDROCK_MODE: 'auto' } }).bedrock.mode).toBe('emulator');
  });

  it('replaces the demo agent entirely when a file defines its own default agent', () => {
    const file = writeJson('agents.json', { agents: { default: { systemPrompt: 'You answer for Acme.' }, sales: { systemPrompt: 'You sell.', model: 'opus' } } });
    const config = loadConfig({ file, env: { AYBIZA_MODEL: 'haiku' } });
    expect(config.agents.default).toMatchObject({ systemPrompt: 'You answer for Acme.', tools: [], model: 'haiku' });
    expect(config.agents.sales).toMatchObject({ model: 'opus', maxTokens: 1024 });
  });

  it('deep-merges overrides into the file, replacing arrays', () => {
    const file = writeJson('merge.json', { server: { apiKeys: ['file-key-123'], port: 9000 }, memory: { writeBehind: { flushMs: 10 } } });
    const config = loadConfig({ file, env: {}, overrides: { server: { apiKeys: ['override-key-1'] }, memory: { writeBehind: { maxQueue: 5 } } } });
    expect(config.server).toMatchObject({ apiKeys: ['override-key-1'], port: 9000 });
    expect(config.memory.writeBehind).toEqual({ maxBatch: 25, flushMs: 10, maxQueue: 5 });
  });

  it('gives the same configuration when a loaded one is loaded again as overrides', () => {
    const once = loadConfig({ env: {}, overrides: { agents: { default: { systemPrompt: 'x', thinking: { budgetTokens: 1024 }, maxTokens: 2048 } } } });
    expect(loadConfig({ env: {}, overrides: once as unknown as Record<string, unknown> })).toEqual(once);
    expect(configSchema.parse({}).agents.default?.systemPrompt).toContain('Harbor Dental');
  });

  it('loads the documented example file at the repository root', () => {
    const example = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'aybiza.example.json');
    const config = loadConfig({ file: example, env: {} });
    expect(config.bedrock).toMatchObject({ mode: 'emulator', region: 'us-east-1', fallbackRegion: 'us-west-2' });
    expect(config.agents.troubleshooter).toMatchObject({ model: 'auto', thinking: { budgetTokens: 2048 } });
    expect(loadConfig({ file: example, env: { AWS_PROFILE: 'prod' } }).memory.durable).toBe('aws');
  });
});
