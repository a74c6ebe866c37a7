import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { REQUEST_HANDLER_KINDS } from '../../src/llm/bedrock-client.js';
import { converseStream } from '../../src/llm/converse-stream.js';
import { STREAM_OPTIONS, emulatorClient, eventually, userTurn } from './converse-stream-fixtures.js';

/** Long and slow enough that the stream is still running when the test unsubscribes. */
const LONG_REPLY = Array.from({ length: 60 }, (_, i) => `This is sentence number ${i + 1}.`).join(' ');

describe('unsubscribing from converseStream', () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;

  beforeAll(async () => {
    emulator = await startEmulator({ script: { ttftMs: 0, tokensPerSecond: 40, rules: [{ reply: LONG_REPLY }] } });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it.each(REQUEST_HANDLER_KINDS)('aborts the HTTP stream so the emulator records it aborted (%s)', async (handler) => {
    const client = emulatorClient(emulator.url, handler);
    const callId = `abort-${handler}`;
    try {
      await new Promise<void>((resolve, reject) => {
        const subscription = converseStream(client, userTurn('hello', callId), STREAM_OPTIONS).subscribe({
          next: (event) => {
            if (event.type !== 'text') return;
            subscription.unsubscribe();
            resolve();
          },
          error: reject,
          complete: () => reject(new Error('the stream completed before the test could unsubscribe')),
        });
      });
      const record = await eventually(() => emulator.requests({ callId }).find((entry) => entry.aborted));
      expect(record.aborted).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
