import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { eventually, startCuttableRelay } from '../memory/memory-fixtures.js';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const HOURS = "We're open Monday to Friday from eight to six. On Saturdays we open at nine and close at one. Anything else?";
let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({
    script: {
      ttftMs: 5,
      tokensPerSecond: 400,
      rules: [
        // The unheard question and the key press reach the model as one user message: the key is matched first.
        { when: 'pressed the key 5', reply: 'You pressed five.' },
        { when: 'bye', reply: 'Thanks for calling. Goodbye!' },
        { when: 'hours', reply: HOURS },
        { reply: 'How can I help?' },
      ],
    },
  });
}, 60_000);
afterAll(() => node?.close());

function call(input: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'call', '--url', node.url, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('aybiza call', () => {
  it('says each piped line, streams the answers, interrupts, presses keys and hangs up at the end of input', async () => {
    const { status, stdout } = await call('What are your hours?\n/interrupt\n/dtmf 5\nOK, bye\n');
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\(connected to default, call [\w-]+; type what the caller says, \/dtmf 1, \/interrupt, \/hangup\)$/);
    expect(lines.slice(1)).toEqual([
      'you: What are your hours?',
      expect.stringMatching(/^agent: We're open Monday to Friday from eight to six\./),
      'you: /interrupt',
      '(the agent stopped: interrupted)',
      'you: /dtmf 5',
      'agent: You pressed five.',
      'you: OK, bye',
      'agent: Thanks for calling. Goodbye!',
      '(end of input: you hung up)',
    ]);
  }, 60_000);

  it('hangs up on /hangup', async () => {
    const { status, stdout } = await call('Hello\n/hangup\nnot said\n', '--playback-ms-per-word', '0');
    expect(status).toBe(0);
    expect(stdout).toContain('agent: How can I help?');
    expect(stdout).toContain('(you hung up)');
    expect(stdout).not.toContain('not said');
  }, 60_000);

  it('names the server it cannot reach', async () => {
    const { status, stderr } = await call('', '--url', 'ws://127.0.0.1:1/v1/calls');
    expect(status).toBe(2);
    expect(stderr).toMatch(/^aybiza call: cannot reach ws:\/\/127\.0\.0\.1:1\/v1\/calls \(.+\): is `aybiza serve` \(npm start\) running\? --url names another server\n$/);
  }, 60_000);

  it('resumes the call with its resumeToken when the connection is cut, and the conversation goes on', async () => {
    const relay = await startCuttableRelay(Number(new URL(node.url).port));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', cli, 'call', '--url', `ws://127.0.0.1:${relay.port}/v1/calls`, '--playback-ms-per-word', '0']);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.stdin.write('Hello\n');
      await eventually(() => stdout.includes('agent: How can I help?'), 30_000);
      relay.cut();
      relay.restore();
      await eventually(() => stdout.includes('(resumed call'), 30_000);
      child.stdin.end('What are your hours?\n');
      expect(await exited).toBe(0);
      const callId = stdout.match(/call ([\w-]+);/)?.[1];
      expect(stdout.trimEnd().split('\n').slice(1)).toEqual([
        'you: Hello',
        'agent: How can I help?',
        '(connection lost: resuming the call)',
        `(resumed call ${callId}: the call goes on)`,
        'you: What are your hours?',
        `agent: ${HOURS}`,
        '(end of input: you hung up)',
      ]);
    } finally {
      await relay.close();
    }
  }, 60_000);
});
