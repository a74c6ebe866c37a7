import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CallerClient } from './caller-client.js';
import { startTestNode, type TestNode } from './test-node.js';

/** A CRM standing in for the customer's own system: answers the webhook tool with what it was asked. */
let crm: Server;
let crmUrl: string;
const received: unknown[] = [];

beforeAll(async () => {
  crm = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ body: JSON.parse(body), authorization: request.headers.authorization });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { plan: 'gold', renewal: '2027-01-31' } }));
    });
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  crmUrl = `http://127.0.0.1:${(crm.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await new Promise((resolve) => crm.close(resolve));
});

describe('tools from configuration', () => {
  let test: TestNode | undefined;
  afterAll(async () => test?.close());

  it('calls a configured webhook tool, with its headers, and speaks the answer', async () => {
    test = await startTestNode({
      config: {
        agents: { default: { systemPrompt: 'You check plans.', tools: ['crm_plan'], model: 'sonnet' } },
        tools: {
          webhooks: [{
            name: 'crm_plan',
            description: 'The caller\'s plan in the CRM.',
            inputSchema: { type: 'object', properties: { phone: { type: 'string' } }, required: ['phone'] },
            url: crmUrl,
            allowHosts: ['127.0.0.1'],
            headers: { authorization: 'Bearer crm-secret' },
          }],
        },
      },
      script: {
        ttftMs: 5,
        rules: [
          { when: 'plan', toolUse: { name: 'crm_plan', input: { phone: '{{from}}' } } },
          { after: 'crm_plan', reply: 'You are on the gold plan.' },
        ],
      },
    });
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'configured-webhook', from: '+15551000000' });
    const says = await caller.turn('Which plan am I on?');
    expect(says.map((say) => say.text).join(' ')).toContain('gold plan');
    expect(received).toEqual([expect.objectContaining({
      authorization: 'Bearer crm-secret',
      body: expect.objectContaining({ tool: 'crm_plan', input: { phone: '+15551000000' } }),
    })]);
    caller.close();
  });

  it('refuses to start when an agent names a tool nobody provides, naming it and the known ones', async () => {
    await expect(startTestNode({ config: { agents: { default: { systemPrompt: 'x', tools: ['nope'] } } } }))
      .rejects.toThrow(/agents\.default\.tools: got \["nope"\] — expected tools that exist: lookup_customer/);
  });

  it('never shows webhook headers in a configuration error', () => {
    const attempt = () => loadConfig({ env: {}, overrides: { tools: { webhooks: [{ name: 'x', description: 'd', inputSchema: {}, url: 'ftp://nope', headers: { authorization: 'Bearer crm-secret' } }] } } });
    expect(attempt).toThrow(/tools\.webhooks\[0\]\.url/);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain('crm-secret');
    }
  });
});
