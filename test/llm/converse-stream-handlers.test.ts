import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { REQUEST_HANDLER_KINDS, createBedrockClient } from '../../src/llm/bedrock-client.js';
import { emulatorClient, streamOutcome, textOf, userTurn } from './converse-stream-fixtures.js';

const REPLY = 'Thanks for calling Harbor Dental. How can I help you today?';
const CONCURRENT_CALLS = 40;

/** A TCP relay in front of the emulator that counts the connections a client opens, and the most open at once. */
async function startConnectionCounter(targetPort: number): Promise<{ url: string; connections: () => number; peakOpen: () => number; close: () => Promise<void> }> {
  let connections = 0;
  let peakOpen = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    connections += 1;
    open.add(inbound);
    peakOpen = Math.max(peakOpen, open.size);
    inbound.on('close', () => open.delete(inbound));
    const outbound = connect(targetPort, '127.0.0.1');
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    peakOpen: () => peakOpen,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      open.forEach((socket) => socket.destroy());
    }),
  };
}

/** Connections each handler may open for CONCURRENT_CALLS simultaneous streams. */
const EXPECTED_CONNECTIONS = {
  'h2-session': (count: number) => expect(count).toBe(CONCURRENT_CALLS),
  'h2-shared': (count: number) => expect(count).toBe(1),
  http1: (count: number) => expect(count).toBeLessThanOrEqual(CONCURRENT_CALLS),
};

describe.each(REQUEST_HANDLER_KINDS)('converseStream over the %s request handler', (handler) => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;

  beforeAll(async () => {
    emulator = await startEmulator({ script: { ttftMs: 0, tokensPerSecond: 2_000, rules: [{ reply: REPLY }] } });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it(`carries ${CONCURRENT_CALLS} concurrent streams, each complete and unmixed`, async () => {
    const client = emulatorClient(emulator.url, handler);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENT_CALLS }, (_, i) => streamOutcome(client, userTurn('hello', `${handler}-${i}`))),
      );
      expect(outcomes.map((outcome) => outcome.error)).toEqual(outcomes.map(() => undefined));
      expect(new Set(outcomes.map((outcome) => textOf(outcome.events)))).toEqual(new Set([REPLY]));
      expect(emulator.requests().filter((record) => record.callId?.startsWith(`${handler}-`))).toHaveLength(CONCURRENT_CALLS);
    } finally {
      client.destroy();
    }
  });

  it('opens the connections its kind promises', async () => {
    const counter = await startConnectionCounter(emulator.port);
    const client = emulatorClient(counter.url, handler);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENT_CALLS }, (_, i) => streamOutcome(client, userTurn('hello', `count-${handler}-${i}`))),
      );
      expect(outcomes.filter((outcome) => outcome.error)).toEqual([]);
      EXPECTED_CONNECTIONS[handler](counter.connections());
    } finally {
      client.destroy();
      await counter.close();
    }
  });
});

describe('the http1 request handler', () => {
  it(`opens one socket per concurrent stream: ${CONCURRENT_CALLS} streams held open together use ${CONCURRENT_CALLS} sockets at once`, async () => {
    // A first token slower than issuing every request keeps all the streams in flight together.
    const emulator = await startEmulator({ script: { ttftMs: 500, tokensPerSecond: 2_000, rules: [{ reply: REPLY }] } });
    const counter = await startConnectionCounter(emulator.port);
    const client = emulatorClient(counter.url, 'http1');
    try {
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENT_CALLS }, (_, i) => streamOutcome(client, userTurn('hello', `peak-http1-${i}`))),
      );
      expect(outcomes.filter((outcome) => outcome.error)).toEqual([]);
      expect(counter.peakOpen()).toBe(CONCURRENT_CALLS);
    } finally {
      client.destroy();
      await counter.close();
      await emulator.close();
    }
  });
});

describe('createBedrockClient options', () => {
  const valid = { region: 'us-east-1', credentials: 'emulator', handler: 'http1', maxSockets: 8, maxAttempts: 2 } as const;

  it.each([
    [{ region: '' }, 'region'],
    [{ handler: 'h3' }, 'handler'],
    [{ maxSockets: 0 }, 'maxSockets'],
    [{ maxAttempts: 1.5 }, 'maxAttempts'],
    [{ endpoint: '127.0.0.1:4000' }, 'endpoint'],
    [{ credentials: 'default' }, 'credentials'],
    [{ decoder: 'fast' }, 'decoder'],
  ])('refuses %o naming %s', (override, field) => {
    expect(() => createBedrockClient({ ...valid, ...override } as never)).toThrow(field);
  });

  it('uses dummy keys for the emulator, never the default chain', async () => {
    const client = createBedrockClient(valid);
    try {
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).toMatch(/^emulator/);
      expect(await client.config.maxAttempts()).toBe(2);
    } finally {
      client.destroy();
    }
  });
});
