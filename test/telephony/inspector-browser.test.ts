import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerClient, type SayFrame } from '../integration/caller-client.js';
import { launchChromium } from '../support/chromium.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';

const KEY = 'inspector-operator-key';

let node: TestNode;
let browser: Browser;
let base: string;

beforeAll(async () => {
  node = await startTestNode({
    config: {
      server: { apiKeys: [KEY] },
      agents: { default: { systemPrompt: 'You are the receptionist.', tools: ['lookup_customer'], model: 'sonnet' } },
    },
    script: {
      ttftMs: 5,
      tokensPerSecond: 400,
      rules: [
        { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } },
        { after: 'lookup_customer', reply: 'I found your account. It is active. Is there anything else?' },
      ],
    },
  });
  base = `http://127.0.0.1:${new URL(node.url).port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
});

describe('the call inspector', () => {
  it("lists a live call, follows its machine's state and draws a turn's timeline", async () => {
    const caller = await CallerClient.connect(node.url, { token: KEY });
    await caller.start({ callId: 'inspected-call', from: '+15557654321' });
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await tab.goto(`${base}/inspector`);
    await tab.fill('#key', KEY);
    await tab.press('#key', 'Enter');
    await tab.dispatchEvent('#key', 'change');
    const row = tab.locator('tr[data-call-id="inspected-call"]');
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('***4321');
    await row.click();
    await tab.locator('#machine .state.current[data-state="listening"]').waitFor();

    // The turn's words go out, but the caller does not acknowledge them yet: the call waits for playback.
    caller.send({ type: 'transcript', text: 'Can you check my account?', final: true });
    await caller.next((frame) => frame.type === 'say' && frame.last);
    await tab.locator('#machine .state.current[data-state="responding.awaitingPlayback"]').waitFor();
    expect(await tab.locator('#machine .state.active[data-state="responding"]').count()).toBe(1);
    expect(await tab.locator('#machine .state.current').count()).toBe(1);

    for (const say of caller.frames.filter((frame): frame is SayFrame => frame.type === 'say')) caller.send({ type: 'played', id: say.id });
    await tab.locator('#machine .state.current[data-state="listening"]').waitFor();
    const turn = tab.locator('article.turn[data-turn="1"]');
    await turn.locator('li[data-step="played"]').waitFor();
    expect(await turn.locator('.steps li').evaluateAll((items) => items.map((item) => item.getAttribute('data-step')))).toEqual([
      'final-words', 'model-request', 'first-event', 'first-sentence', 'first-say', 'played',
    ]);
    expect(await turn.locator('.lane .label').allTextContents()).toEqual([
      expect.stringMatching(/^round 0 /), expect.stringMatching(/^round 1 /), 'tool lookup_customer', 'said → played',
    ]);
    expect(await turn.locator('.bar.tool').count()).toBe(1);
    expect(await turn.locator('.words').first().textContent()).toContain('Can you check my account?');
    expect(await turn.locator('.words').last().textContent()).toContain('I found your account.');
    expect(await tab.locator('[data-fact="tokens"]').textContent()).toMatch(/^\d+ in · [1-9]\d* out/);
    if (process.env.AYBIZA_INSPECTOR_SCREENSHOT) await tab.screenshot({ path: process.env.AYBIZA_INSPECTOR_SCREENSHOT, fullPage: true });

    caller.send({ type: 'hangup' });
    await caller.closed();
    await tab.locator('#call[data-status="ended"]').waitFor();
    expect(await tab.locator('[data-fact="status"]').textContent()).toBe('ended (hangup)');
    await tab.close();
  }, 60_000);

  it('is served without anything from elsewhere, behind the same keys as calls for its data', async () => {
    const page = await fetch(`${base}/inspector`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${base}/v1/call-machine`)).status).toBe(401);
    const diagram = (await (await fetch(`${base}/v1/call-machine?token=${KEY}`)).json()) as { states: string[] };
    expect(diagram.states).toEqual(expect.arrayContaining(['call', 'listening', 'responding.generating.thinking', 'ended']));
  });
});
