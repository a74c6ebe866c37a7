import type { ModelScript } from '../../src/emulator/script.js';
import type { Logger } from '../../src/log.js';
import type { PhoneCall } from '../../src/emulator/twilio/phone-call.js';
import { startTwilioEmulator, type RunningTwilioEmulator } from '../../src/emulator/twilio/server.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';

/** The public host Twilio is told about; the emulator's balancer sends it to the node under test. */
export const PUBLIC_URL = 'http://aybiza.test';
export const CALLER = '+15550100123';
export const LINE = '+15550199000';

/** The `twilio` and `speech` configuration a node needs to answer the emulated Twilio. */
export function twilioConfig(twilio: RunningTwilioEmulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    twilio: { enabled: true, accountSid: twilio.accountSid, authToken: twilio.authToken, publicUrl: PUBLIC_URL, apiBaseUrl: twilio.url, ...extra },
    speech: { emulatorEndOfSpeechMs: 300 },
  };
}

/** Sends the public host to `port` on loopback, as a load balancer in front of the nodes would. */
export function toPort(port: () => number) {
  return (url: URL): URL => {
    if (url.host !== new URL(PUBLIC_URL).host) return url;
    const target = new URL(url);
    target.host = `127.0.0.1:${port()}`;
    return target;
  };
}

export interface TwilioRig {
  twilio: RunningTwilioEmulator;
  node: TestNode;
  call(): PhoneCall;
  close(): Promise<void>;
}

/** A node with Twilio on and its embedded speech emulators, and the Twilio emulator ringing it. */
export async function startTwilioRig(options: { script: ModelScript; config?: Record<string, unknown>; twilio?: Record<string, unknown>; log?: Logger }): Promise<TwilioRig> {
  let port = 0;
  const twilio = await startTwilioEmulator({ resolve: toPort(() => port) });
  const node = await startTestNode({ script: options.script, config: { ...twilioConfig(twilio, options.twilio), ...options.config }, ...(options.log ? { log: options.log } : {}) });
  port = Number(new URL(node.url).port);
  return {
    twilio,
    node,
    call: () => twilio.placeCall({ webhookUrl: `${PUBLIC_URL}/twilio/voice`, from: CALLER, to: LINE }),
    close: async () => {
      await twilio.close();
      // The hung-up calls record their last turn before the node (and its DynamoDB) goes away.
      await until(() => node.node.calls.active() === 0, 5_000, 'every call ended').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await node.close();
    },
  };
}

export async function until(condition: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
