import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
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

  it('says once why the server voice is silent when the server has it off, and the call goes on in text', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${page}?playbackMsPerWord=0`);
    await tab.selectOption('#voice', 'server');
    await tab.click('#call');
    await tab.locator('#status', { hasText: 'In a call with default' }).waitFor();
    for (const words of ['Hello', 'When are you open?']) {
      await tab.fill('#utterance', words);
      await tab.press('#utterance', 'Enter');
      await tab.locator('li.caller', { hasText: words }).waitFor();
    }
    await tab.locator('li.agent[data-complete="true"]', { hasText: ANSWER }).waitFor();
    expect(await tab.locator('li.event').allTextContents()).toEqual([
      'Agent voice: server audio is off: set speech.browserAudio.enabled (AYBIZA_BROWSER_AUDIO=true)',
    ]);
    await tab.click('#hangup');
    await tab.close();
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

/**
 * Page script (plain JS: the test's tsconfig has no DOM) that logs, in the order they happen: the
 * `/v1/speech` answers, each audio source's start, stop and end (Web Audio plays to headless
 * Chromium's null sink), and the frames sent (the socket kept as `softphoneSocket`).
 */
const RECORDER = `
  const events = [];
  window.softphoneEvents = events;
  const fetchOf = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await fetchOf(input, init);
    if (String(input).includes('/v1/speech')) events.push('speech ' + response.status + ' ' + JSON.parse(init.body).text);
    return response;
  };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    window.softphoneSocket = this;
    const frame = JSON.parse(data);
    events.push(frame.type === 'played' ? 'played ' + frame.id : frame.type);
    send.call(this, data);
  };
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (...args) {
    events.push('audio started');
    start.apply(this, args);
  };
  const stop = AudioBufferSourceNode.prototype.stop;
  AudioBufferSourceNode.prototype.stop = function (...args) {
    events.push('audio stopped');
    stop.apply(this, args);
  };
  // Logged as the softphone's own listener runs, so the end comes before what the page does on it.
  const listen = AudioBufferSourceNode.prototype.addEventListener;
  AudioBufferSourceNode.prototype.addEventListener = function (type, listener, options) {
    const logged = type === 'ended' ? (event) => { events.push('audio ended'); listener(event); } : listener;
    listen.call(this, type, logged, options);
  };
`;

describe('the softphone with "Agent voice: server"', () => {
  const HELLO = 'Hello, how can I help?';
  let voiced: TestNode;

  beforeAll(async () => {
    voiced = await startTestNode({
      script: { ttftMs: 5, tokensPerSecond: 400, rules: [{ when: 'hours|open', reply: ANSWER }, { reply: HELLO }] },
      config: { speech: { mode: 'emulator', browserAudio: { enabled: true } } },
    });
  }, 60_000);

  afterAll(async () => {
    await voiced?.close();
  });

  /** A tab in a call with the server's voice, its page logging what it does (RECORDER). */
  async function voicedTab() {
    const tab = await browser.newPage();
    await tab.addInitScript({ content: RECORDER });
    await tab.goto(`http://127.0.0.1:${new URL(voiced.url).port}/`);
    await tab.selectOption('#voice', 'server');
    await tab.click('#call');
    await tab.locator('#status', { hasText: 'In a call with default' }).waitFor();
    return tab;
  }
  // Functions, not strings: the page's CSP forbids eval.
  const pageEvents = () => (globalThis as unknown as { softphoneEvents: string[] }).softphoneEvents;
  const eventsOf = (tab: Page) => tab.evaluate(pageEvents);
  /** Until the page has logged an event starting with `prefix`. */
  const logged = (tab: Page, prefix: string) =>
    tab.waitForFunction((wanted) => (globalThis as unknown as { softphoneEvents: string[] }).softphoneEvents.some((event) => event.startsWith(wanted)), prefix);
  /** Asks for the long answer and waits until its first chunk's audio is playing. */
  async function answerPlaying(tab: Page) {
    await tab.fill('#utterance', 'What are your hours?');
    await tab.press('#utterance', 'Enter');
    await logged(tab, 'audio started');
  }

  it('fetches the chunk\'s audio, plays it, and sends played only after the audio ended', async () => {
    const tab = await voicedTab();
    await tab.fill('#utterance', 'Hello');
    await tab.press('#utterance', 'Enter');
    await logged(tab, 'played ');
    const events = await eventsOf(tab);
    const played = events.find((event) => event.startsWith('played '))!;
    expect(events).toEqual(['start', 'transcript', `speech 200 ${HELLO}`, 'audio started', 'audio ended', played]);
    await tab.click('#hangup');
    await tab.close();
  }, 60_000);

  it('stops the audio on Interrupt and never acknowledges the cut chunks', async () => {
    const tab = await voicedTab();
    await answerPlaying(tab);
    await tab.click('#interrupt');
    await tab.locator('li.agent.interrupted').waitFor();
    const events = await eventsOf(tab);
    // The later chunks' audio is fetched while the first plays; none of it is played.
    const heard = events.filter((event) => !event.startsWith('speech 200 '));
    expect(heard.slice(heard.indexOf('audio started'))).toEqual(['audio started', 'speech_started', 'audio stopped', 'audio ended']);
    expect(events.filter((event) => event.startsWith('played '))).toEqual([]);
    await tab.click('#hangup');
    await tab.close();
  }, 60_000);

  it('stops the audio when the server clears the turn (a partial transcript barged in)', async () => {
    const tab = await voicedTab();
    await answerPlaying(tab);
    // What the page's speech recognition sends as the caller starts talking; nothing stops the audio locally, only the server's `clear`.
    await tab.evaluate(() => {
      const page = globalThis as unknown as { softphoneSocket: { send(data: string): void } };
      page.softphoneSocket.send(JSON.stringify({ type: 'transcript', text: 'wait', final: false }));
    });
    await tab.locator('li.agent.interrupted').waitFor();
    await logged(tab, 'audio stopped');
    const events = (await eventsOf(tab)).filter((event) => !event.startsWith('speech 200 '));
    const first = events.slice(events.indexOf('audio started'));
    expect(first.slice(0, first.indexOf('audio ended') + 1)).toEqual(['audio started', 'transcript', 'audio stopped', 'audio ended']);
    await tab.click('#hangup');
    await tab.close();
  }, 60_000);
});
