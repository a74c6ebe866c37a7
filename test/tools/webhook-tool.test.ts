import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressGuard } from '../../src/tools/backends/address-guard.js';
import { createWebhookTool, WebhookConfigError, type WebhookToolOptions } from '../../src/tools/backends/webhook.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import type { ToolRunResult } from '../../src/tools/types.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

describe('webhook tool', () => {
  let server: Server;
  let port: number;
  const handlers = new Map<string, Handler>();
  const received: Array<{ path: string; body: unknown; authorization: string | undefined }> = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        received.push({ path: request.url ?? '', body: JSON.parse(body), authorization: request.headers.authorization });
        handlers.get(request.url ?? '')?.(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    handlers.set('/ok', (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { balanceUsd: 45 } })));
    handlers.set('/transfer', (_req, _body, res) => res.end(JSON.stringify({ result: { ok: true }, transfer: { to: 'billing' } })));
    handlers.set('/big', (_req, _body, res) => res.end(JSON.stringify({ result: 'x'.repeat(5_000) })));
    handlers.set('/chunked-big', (_req, _body, res) => { res.write('{"result":"'); res.write('y'.repeat(5_000)); res.end('"}'); });
    handlers.set('/fail', (_req, _body, res) => res.writeHead(500).end('{"stack":"secret internals"}'));
    handlers.set('/not-json', (_req, _body, res) => res.end('<html>'));
    handlers.set('/wrong-shape', (_req, _body, res) => res.end('{"answer":1}'));
    handlers.set('/hang', () => undefined);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const tool = (path: string, overrides: Partial<WebhookToolOptions> = {}) => createWebhookTool({
    name: 'check_balance', description: 'Balance of the caller.', inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
    url: `http://127.0.0.1:${port}${path}`, maxResponseBytes: 1_000, allowHosts: ['127.0.0.1'], ...overrides,
  });

  const run = async (definition = tool('/ok'), timeoutMs = 5_000): Promise<ToolRunResult> => {
    const [result] = await executeToolUses(createToolRegistry([definition]), [{ toolUseId: 't1', name: definition.name, input: { id: 'C-1003' } }],
      { callId: 'call-9', agent: 'billing', from: '+15551000002' }, { signal: new AbortController().signal, defaultTimeoutMs: timeoutMs, maxResultBytes: 64_000 });
    if (!result) throw new Error('no result');
    return result;
  };

  it('posts the input and call to the webhook and returns its result', async () => {
    const result = await run(tool('/ok', { headers: { authorization: 'Bearer s3cret' } }));
    expect(result).toMatchObject({ status: 'success', content: { balanceUsd: 45 } });
    expect(received.at(-1)).toEqual({
      path: '/ok', authorization: 'Bearer s3cret',
      body: { tool: 'check_balance', input: { id: 'C-1003' }, call: { callId: 'call-9', agent: 'billing', from: '+15551000002' } },
    });
  });

  it('passes a transfer asked for by the webhook', async () => {
    expect((await run(tool('/transfer'))).transfer).toEqual({ to: 'billing' });
  });

  it('refuses a loopback address that is not allow-listed, before connecting', async () => {
    const before = received.length;
    const result = await run(tool('/ok', { allowHosts: [], url: `https://127.0.0.1:${port}/ok` }));
    expect(result).toMatchObject({ status: 'error', outcome: 'error' });
    expect((result.content as { error: string }).error).toMatch(/resolves to 127\.0\.0\.1, a private or local address that is not allow-listed/);
    expect(received.length).toBe(before);
  });

  it('refuses a host name whose DNS answer is private', async () => {
    const rebinding = tool('/ok', { allowHosts: [], url: 'https://hooks.example.com/ok', resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }] });
    expect((await run(rebinding)).content).toEqual({ error: 'check_balance failed: host hooks.example.com resolves to 10.0.0.7, a private or local address that is not allow-listed' });
  });

  it('classifies private, link-local and mapped addresses', async () => {
    const guard = createAddressGuard({ allowHosts: ['intranet.local'], resolve: async () => [{ address: '192.168.1.5', family: 4 }] });
    for (const host of ['169.254.169.254', '[::1]', '[fe80::1]', '[::ffff:127.0.0.1]', '172.20.0.1', '0.0.0.0']) {
      await expect(guard.resolve(host)).rejects.toThrow(/not allow-listed/);
    }
    await expect(guard.resolve('8.8.8.8')).resolves.toEqual([{ address: '8.8.8.8', family: 4 }]);
    await expect(guard.resolve('INTRANET.local')).resolves.toEqual([{ address: '192.168.1.5', family: 4 }]);
  });

  it('refuses plain http, other schemes and credentials in the url at configuration', () => {
    expect(() => tool('/ok', { allowHosts: [], url: 'http://hooks.example.com/x' })).toThrow(WebhookConfigError);
    expect(() => tool('/ok', { url: 'file:///etc/passwd' })).toThrow(/url must be https, got file:/);
    expect(() => tool('/ok', { url: 'https://user:pw@hooks.example.com/x' })).toThrow(/credentials in headers/);
  });

  it('refuses a response over the size cap, declared or streamed', async () => {
    expect((await run(tool('/big'))).content).toEqual({ error: expect.stringMatching(/over the limit of 1000 bytes/) });
    expect((await run(tool('/chunked-big'))).content).toEqual({ error: 'check_balance failed: webhook response is over the limit of 1000 bytes' });
  });

  it('reports an HTTP error status without the body', async () => {
    const result = await run(tool('/fail'));
    expect(result.content).toEqual({ error: 'check_balance failed: webhook answered HTTP 500' });
  });

  it('reports an answer that is not JSON or not of the expected shape', async () => {
    expect((await run(tool('/not-json'))).content).toEqual({ error: 'check_balance failed: webhook answered with a body that is not JSON' });
    expect((await run(tool('/wrong-shape'))).content).toEqual({ error: 'check_balance failed: webhook answer must be a JSON object with a "result" field' });
  });

  it('times out a webhook that does not answer', async () => {
    expect(await run(tool('/hang', { timeoutMs: 50 }))).toMatchObject({ status: 'error', outcome: 'timeout' });
  });
});
