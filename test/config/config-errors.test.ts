import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, MAX_CONFIG_NESTING, type LoadConfigInput } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'aybiza-config-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The ConfigError a load throws; fails the test when it loads. */
function refusal(input: LoadConfigInput): ConfigError {
  try {
    loadConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration refusals', () => {
  it.each(['80a', '8080.5', '-1', '70000', '0x50'])('refuses AYBIZA_PORT=%s naming the variable and value', (value) => {
    const error = refusal({ env: { AYBIZA_PORT: value } });
    expect(error.message).toContain(`AYBIZA_PORT: got "${value}" — expected`);
  });

  it('refuses a bad --port flag by its name', () => {
    expect(refusal({ env: {}, flags: { port: 'eighty' } }).message).toContain('--port: got "eighty" — expected an integer');
  });

  it('refuses AYBIZA_WORKERS that is neither a count nor auto, and takes auto as the cores', () => {
    expect(refusal({ env: { AYBIZA_WORKERS: 'many' } }).message).toContain(`AYBIZA_WORKERS: got "many" — expected an integer or 'auto'`);
    expect(refusal({ env: { AYBIZA_WORKERS: '0' } }).message).toContain(`AYBIZA_WORKERS: got "0" — expected a number ≥ 1`);
    expect(loadConfig({ env: { AYBIZA_WORKERS: 'auto' } }).server.workers).toBe(availableParallelism());
    expect(loadConfig({ env: {} }).server.workers).toBe(1);
  });

  it('lists every problem, one per line', () => {
    const error = refusal({ env: { AYBIZA_PORT: '80a', AYBIZA_MAX_CALLS: '0', AYBIZA_LOG_LEVEL: 'loud' } });
    expect(error.problems).toHaveLength(3);
    expect(error.message).toContain('AYBIZA_MAX_CALLS: got "0" — expected a number ≥ 1');
    expect(error.message).toContain('AYBIZA_LOG_LEVEL: got "loud" — expected one of "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent"');
  });

  it('refuses an unknown model, listing the known ones', () => {
    const error = refusal({ env: { AYBIZA_MODEL: 'anthropic.claude-4-opus-20250120' } });
    expect(error.message).toMatch(/AYBIZA_MODEL: got "anthropic.claude-4-opus-20250120" — expected a known model: opus, sonnet, haiku, .*anthropic\.claude-opus-4-5-20251101-v1:0/);
  });

  it('refuses an unknown model of an agent in the file by its JSON path', () => {
    const file = writeFile('model.json', JSON.stringify({ agents: { default: { systemPrompt: 'x', model: 'gpt-5' } } }));
    expect(refusal({ file, env: {} }).message).toContain(`agents.default.model (in ${file}): got "gpt-5" — expected a known model`);
  });

  it('refuses a missing file, naming it', () => {
    const file = join(dir, 'absent.json');
    expect(refusal({ file, env: {} }).message).toContain(`${file}: cannot read the configuration file — ENOENT`);
  });

  it('refuses a file of invalid JSON, naming it', () => {
    const file = writeFile('broken.json', '{ "server": { "port": 80, } }');
    expect(refusal({ file, env: {} }).message).toContain(`${file}: invalid JSON`);
  });

  it('refuses a file nested 100,000 levels deep, naming it, before anything walks it', () => {
    const file = writeFile('deep.json', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    expect(refusal({ file, env: {} }).problems).toEqual([`${file}: nested more than ${MAX_CONFIG_NESTING} levels deep — a configuration needs a handful; is this the right file?`]);
    const arrays = writeFile('deep-arrays.json', `{"server":${'['.repeat(MAX_CONFIG_NESTING)}${']'.repeat(MAX_CONFIG_NESTING)}}`);
    expect(refusal({ file: arrays, env: {} }).message).toContain(`nested more than ${MAX_CONFIG_NESTING} levels deep`);
  });

  it('counts nesting in the document, not brackets inside its strings', () => {
    const brackets = '{[\\"'.repeat(200);
    const file = writeFile('brackets-in-text.json', JSON.stringify({ agents: { default: { systemPrompt: brackets, tools: [] } } }));
    expect(loadConfig({ file, env: {} }).agents.default?.systemPrompt).toBe(brackets);
    let inputSchema: Record<string, unknown> = { type: 'string' };
    // Two levels per wrapper (a schema and its properties): 56, with the file's four and the innermost schema 61 in all.
    for (let level = 0; level < (MAX_CONFIG_NESTING - 8) / 2; level += 1) inputSchema = { type: 'object', properties: { inner: inputSchema } };
    const webhook = { name: 'deep_schema', description: 'a deep but allowed input schema', inputSchema, url: 'https://tools.example.com/x' };
    const deep = writeFile('deep-but-allowed.json', JSON.stringify({ tools: { webhooks: [webhook] } }));
    expect(loadConfig({ file: deep, env: {} }).tools.webhooks[0]?.inputSchema).toEqual(inputSchema);
  });

  it('refuses unknown keys in the file with their path and the known keys', () => {
    const file = writeFile('unknown.json', JSON.stringify({ server: { prot: 80 }, telemetry: true }));
    const { message } = refusal({ file, env: {} });
    expect(message).toContain(`server.prot (in ${file}): got 80 — expected no such key (known: host, port,`);
    expect(message).toContain(`telemetry (in ${file}): got true — expected no such key (known: $comment, server, bedrock, models, agents,`);
  });

  it('refuses a thinking budget not below maxTokens', () => {
    const { message } = refusal({ env: {}, overrides: { agents: { default: { systemPrompt: 'x', maxTokens: 2000, thinking: { budgetTokens: 2000 } } } } });
    expect(message).toContain('agents.default.thinking.budgetTokens: got 2000 — expected less than agents.default.maxTokens (2000)');
  });

  it('accepts a budget above maxTokens when thinking is interleaved', () => {
    const config = loadConfig({ env: {}, overrides: { agents: { default: { systemPrompt: 'x', maxTokens: 1024, thinking: { budgetTokens: 4096, interleaved: true } } } } });
    expect(config.agents.default?.thinking).toEqual({ budgetTokens: 4096, interleaved: true });
  });

  it('refuses a thinking budget under 1024', () => {
    expect(refusal({ env: {}, overrides: { agents: { default: { systemPrompt: 'x', thinking: { budgetTokens: 512 } } } } }).message)
      .toContain('agents.default.thinking.budgetTokens: got 512 — expected a number ≥ 1024');
  });

  it('refuses aws mode without a region rather than pick one', () => {
    expect(refusal({ env: { AWS_PROFILE: 'prod' } }).message).toContain('AWS_REGION or bedrock.region: got nothing — expected an explicit AWS region in aws mode');
    expect(refusal({ env: {}, overrides: { bedrock: { mode: 'aws' } } }).message).toContain('bedrock.region');
  });

  it('refuses a bad Redis URL without printing its password', () => {
    const { message } = refusal({ env: { AYBIZA_REDIS_URL: 'http://admin:s3cr3t-pass@cache.internal:6379' } });
    expect(message).toContain('AYBIZA_REDIS_URL: got "http://admin:***@cache.internal:6379" — expected a redis:// or rediss:// URL');
    expect(message).not.toContain('s3cr3t-pass');
  });

  it('never prints API keys', () => {
    const { message } = refusal({ env: { AYBIZA_API_KEYS: 'short,sup3r-secret-key' } });
    expect(message).toContain('AYBIZA_API_KEYS');
    expect(message).not.toContain('sup3r-secret-key');
    expect(message).not.toContain('short');
  });

  it('refuses a bad mode, endpoint and region', () => {
    const { message } = refusal({ env: { AYBIZA_BEDROCK_MODE: 'azure', AYBIZA_BEDROCK_ENDPOINT: 'not a url', AWS_REGION: 'Virginia' } });
    expect(message).toContain(`AYBIZA_BEDROCK_MODE: got "azure" — expected 'auto', 'aws' or 'emulator'`);
    expect(message).toContain('AYBIZA_BEDROCK_ENDPOINT: got "not a url" — expected a valid URL');
    expect(message).toContain('AWS_REGION: got "Virginia" — expected an AWS region such as us-east-1');
  });

  it('names bad agent fields by their path', () => {
    const { message } = refusal({ env: {}, overrides: { agents: { default: { systemPrompt: '', tools: ['bad tool'] } } } });
    expect(message).toContain('agents.default.systemPrompt: got "" — expected at least 1 characters');
    expect(message).toContain('agents.default.tools[0]: got "bad tool" — expected a tool name');
  });

  it('refuses, in the schema itself, agents without a default one', () => {
    const result = configSchema.safeParse({ agents: { sales: { systemPrompt: 'x' } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['agents'], message: 'an agent named "default"' });
  });
});
