import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aybiza-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `aybiza serve` as a real process with only the given settings: no AWS or AYBIZA variables leak in. */
function serve(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|AYBIZA_)/.test(name)));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
    env: {
      ...inherited,
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AYBIZA_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      AYBIZA_PORT: '0',
      AYBIZA_METRICS_PORT: '0',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    // Started after all: stop it so the test reports the wrong outcome instead of hanging.
    if (stdout.includes('"serve.ready"')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function expectOneLine(result: { status: number | null; stderr: string }, line: string | RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
}

describe('aybiza serve start-up failures', () => {
  it('names a connector whose backend cannot be reached, and the reason', async () => {
    const file = join(dir, 'unreachable-connector.json');
    writeFileSync(file, JSON.stringify({
      agents: { default: { systemPrompt: 'x', tools: ['calendar_lookup'] } },
      tools: { mcp: [{ name: 'calendar', command: join(dir, 'no-such-mcp-server') }] },
    }));
    const result = await serve({ AYBIZA_CONFIG: file, AYBIZA_HOT_MEMORY: 'memory', AYBIZA_DURABLE_MEMORY: 'none' });
    expectOneLine(result, /^MCP server "calendar" cannot be reached at start: .*ENOENT.*; fix its command or url, or mark it "optional": true to start without it$/);
  }, 60_000);

  it('names the port in use, who holds it and AYBIZA_PORT', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await serve({ AYBIZA_PORT: String(port) });
      expectOneLine(result, new RegExp(`^port ${port} is already in use by pid ${process.pid} \\(.+\\): stop it, or choose another port with AYBIZA_PORT \\(or --port\\)$`));
    } finally {
      holder.close();
    }
  }, 60_000);

  it('names AYBIZA_METRICS_PORT when the metrics port is the one in use', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await serve({ AYBIZA_METRICS_PORT: String(port), AYBIZA_HOT_MEMORY: 'memory' });
      expectOneLine(result, new RegExp(`^port ${port} is already in use by pid ${process.pid} \\(.+\\): stop it, or choose another port with AYBIZA_METRICS_PORT \\(or --metrics-port\\)$`));
    } finally {
      holder.close();
    }
  }, 60_000);

  it('names the service that needs AWS credentials and what to set, before reporting ready', async () => {
    const result = await serve({ AYBIZA_BEDROCK: 'aws', AWS_REGION: 'us-east-1', AYBIZA_DURABLE_MEMORY: 'none', AWS_EC2_METADATA_DISABLED: 'true' });
    expect(result.stdout).not.toContain('serve.ready');
    expectOneLine(result, 'no AWS credentials found for Bedrock (AYBIZA_BEDROCK=aws): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE naming a profile in ~/.aws/credentials or ~/.aws/config; or answer with the embedded emulator: AYBIZA_BEDROCK=emulator');
  }, 60_000);

  it('names both services when DynamoDB needs credentials too', async () => {
    const result = await serve({ AYBIZA_BEDROCK: 'aws', AWS_REGION: 'us-east-1', AYBIZA_DURABLE_MEMORY: 'aws', AWS_EC2_METADATA_DISABLED: 'true' });
    expectOneLine(result, /^no AWS credentials found for Bedrock \(AYBIZA_BEDROCK=aws\) and DynamoDB \(AYBIZA_DURABLE_MEMORY=aws\): set AWS_ACCESS_KEY_ID/);
  }, 60_000);

  it('names the Redis URL tried and AYBIZA_HOT_MEMORY=auto when Redis is required but absent', async () => {
    const result = await serve({ AYBIZA_HOT_MEMORY: 'redis', AYBIZA_REDIS_URL: 'redis://:secret@127.0.0.1:1/0' });
    expectOneLine(result, 'Redis is required (AYBIZA_HOT_MEMORY=redis) but did not answer at redis://:***@127.0.0.1:1/0: start redis-server, set AYBIZA_REDIS_URL to where it runs, or use AYBIZA_HOT_MEMORY=auto (Redis when it answers, else in-process memory)');
  }, 60_000);

  it('refuses --workers above 1 with the hot memory in process, naming the fix', async () => {
    const result = await serve({ AYBIZA_WORKERS: '2', AYBIZA_HOT_MEMORY: 'memory' });
    expectOneLine(result, "--workers 2 needs the hot memory in Redis, shared by the workers, not in each process (memory.hot is 'memory'): set AYBIZA_HOT_MEMORY=redis with Redis at AYBIZA_REDIS_URL, or run one worker (--workers 1)");
  }, 60_000);

  it('prints a worker\'s start-up failure as the one line, once, with --workers 2', async () => {
    const file = join(dir, 'unreachable-connector-workers.json');
    writeFileSync(file, JSON.stringify({
      agents: { default: { systemPrompt: 'x', tools: ['calendar_lookup'] } },
      tools: { mcp: [{ name: 'calendar', command: join(dir, 'no-such-mcp-server') }] },
    }));
    const result = await serve({ AYBIZA_CONFIG: file, AYBIZA_WORKERS: '2', AYBIZA_HOT_MEMORY: 'redis', AYBIZA_DURABLE_MEMORY: 'none' });
    expectOneLine(result, /^MCP server "calendar" cannot be reached at start: .*ENOENT.*; fix its command or url, or mark it "optional": true to start without it$/);
  }, 60_000);

  it('names a configuration file nested 100,000 levels deep instead of overflowing the stack', async () => {
    const file = join(dir, 'deep.json');
    writeFileSync(file, `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    const result = await serve({ AYBIZA_CONFIG: file });
    expectOneLine(result, `invalid configuration: ${file}: nested more than 64 levels deep — a configuration needs a handful; is this the right file?`);
    expect(result.stderr).not.toContain('RangeError');
    expect(result.stderr).not.toContain('call stack');
  }, 60_000);

  it('shows the stack only with AYBIZA_LOG_LEVEL=debug', async () => {
    const result = await serve({ AYBIZA_HOT_MEMORY: 'redis', AYBIZA_REDIS_URL: 'redis://127.0.0.1:1', AYBIZA_LOG_LEVEL: 'debug' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Redis is required (AYBIZA_HOT_MEMORY=redis) but did not answer at redis://127.0.0.1:1');
    expect(result.stderr).toMatch(/^\s+at /m);
  }, 60_000);
});
