import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { launchChromium } from '../support/chromium.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { startCuttableRelay } from '../memory/memory-fixtures.js';

const ANSWER = "We're open Monday to Friday from eight to six. On Saturdays we open at nine and close at one. Is there anything else I can help with?";

let node: TestNode;
let browser: Browser;
let page: string;

beforeAll(async () => {
  node = await startTestNode({
    script: { ttftMs: 5, tokensPerSecond: 400, rules: [{ when: 'hours|open', reply: ANSWER }, { reply: 'Hello, how can I help?' }] },
  });
  page = `http://127.0.0.1:${new URL(node.url).port}/`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
});

describe('the browser softphone', () => {
  it('places a call, streams the answer, is interrupted mid-answer and hangs up', async () => {
    const tab = await browser.newPage();
    // Playback slow enough that the answer is still being "heard" when the caller interrupts.
    await tab.goto(`${page}?playbackMsPerWord=5000`);
    await tab.locator('#agents option[value="default"]').waitFor({ state: 'attached' });
    await tab.click('#call');
    await tab.locator('#status', { hasText: 'In a call with default' }).waitFor();

    await tab.fill('#utterance', 'What are your hours?');
    await tab.press('#utterance', 'Enter');
    await tab.locator('li.caller', { hasText: 'What are your hours?' }).waitFor();
    const answer = tab.locator('li.agent').first();
    await answer.and(tab.locator('[data-complete="true"]')).waitFor();
    expect(await answer.textContent()).toBe(ANSWER);
    if (process.env.AYBIZA_SOFTPHONE_SCREENSHOT) await tab.screenshot({ path: process.env.AYBIZA_SOFTPHONE_SCREENSHOT });

    await tab.click('#interrupt');
    await tab.locator('li.agent.interrupted').waitFor();

    await tab.click('#keypad button[data-digit="1"]');
    await tab.locator('li.event', { hasText: 'You pressed 1.' }).waitFor();

    await tab.click('#hangup');
    await tab.locator('#status', { hasText: 'You hung up.' }).waitFor();
    expect(await tab.isEnabled('#call')).toBe(true);
    await tab.close();
  }, 60_000);

  it('resumes the call with its resumeToken when the connection is cut, and the conversation goes on', async () => {
    // The page is loaded through a relay the test can cut, so its WebSocket goes through it too.
    const relay = await startCuttableRelay(Number(new URL(node.url).port));
    const tab = await browser.newPage();
    try {
      await tab.goto(`http://127.0.0.1:${relay.port}/?playbackMsPerWord=0`);
      await tab.click('#call');
      await tab.locator('#status', { hasText: 'In a call with default' }).waitFor();
      await tab.fill('#utterance', 'Hello');
      await tab.press('#utterance', 'Enter');
      await tab.locator('li.agent[data-complete="true"]', { hasText: 'Hello, how can I help?' }).waitFor();
      relay.cut();
      relay.restore();
      await tab.locator('li.event', { hasText: 'Resumed: the call goes on.' }).waitFor();
      await tab.fill('#utterance', 'When are you open?');
      await tab.press('#utterance', 'Enter');
      await tab.locator('li.agent[data-complete="true"]', { hasText: ANSWER }).waitFor();
      expect(await tab.locator('li.event').allTextContents()).toEqual(['Connection lost: resuming the call…', 'Resumed: the call goes on.']);
      expect(await tab.isEnabled('#hangup')).toBe(true);
    } finally {
      await tab.close();
      await relay.close();
    }
  }, 60_000);

  it('keeps the typed key in the page session, not in the page', async () => {
    const tab = await browser.newPage();
    await tab.goto(page);
    await tab.fill('#key', 'a-key-typed-once');
    await tab.click('#call');
    await tab.locator('#status', { hasText: 'In a call' }).waitFor();
    await tab.reload();
    expect(await tab.inputValue('#key')).toBe('a-key-typed-once');
    const html = await (await fetch(page)).text();
    expect(html).not.toContain('a-key-typed-once');
    await tab.close();
  }, 60_000);

  it('is refused with 403 when a page of another origin opens a call', async () => {
    const other: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script>
        const ws = new WebSocket(${JSON.stringify(node.url)}, 'aybiza.v1');
        ws.onopen = () => { document.title = 'opened'; };
        ws.onclose = () => { if (document.title !== 'opened') document.title = 'refused'; };
      </script>`);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      await tab.waitForFunction("document.title !== ''");
      expect(await tab.title()).toBe('refused');
      await tab.close();
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  }, 60_000);
});

describe('the Origin check on the WebSocket upgrade', () => {
  const upgradeStatus = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(node.url, 'aybiza.v1', { headers });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.once('error', reject);
    });

  it('refuses a foreign browser origin with 403', async () => {
    expect(await upgradeStatus({ origin: 'https://evil.example' })).toBe(403);
  });

  it('accepts the server its own origin and clients that send no Origin', async () => {
    expect(await upgradeStatus({ origin: `http://127.0.0.1:${new URL(node.url).port}` })).toBe(101);
    expect(await upgradeStatus({})).toBe(101);
  });
});
