import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REPEAT_PROMPT } from '../../src/speech/audio-call.js';
import { twilioSignature } from '../../src/emulator/twilio/signing.js';
import { startTwilioEmulator, type RunningTwilioEmulator } from '../../src/emulator/twilio/server.js';
import { isolation, startDynalite } from '../memory/memory-fixtures.js';
import { CALLER, LINE, PUBLIC_URL, toPort, twilioConfig, until } from '../telephony/twilio-fixture.js';
import { startCli, startEmulatorProcess, stopChild, type ChildService } from './cli-process.js';
import { countStoredMessages, tempDir, uniqueId } from './reliability-node.js';

const HOURS = 'We are open Monday to Friday from 8 to 6.';
const LONG = 'Let me tell you about every service we offer. We do cleanings, fillings, crowns and whitening. We also see children. Our hygienists are friendly and our chairs are comfortable.';
const script = { ttftMs: { min: 5, max: 10 }, rules: [{ when: 'hours', reply: HOURS }, { when: 'services', reply: LONG }, { reply: 'Sure.' }] };

const dir = tempDir('twilio-death');
const isolated = isolation('twilio-death');
const secondDataDir = mkdtempSync(join(tmpdir(), 'aybiza-memory-twilio-death-b-'));
let twilio: RunningTwilioEmulator;
let emulator: ChildService;
let dynalite: { endpoint: string; close(): Promise<void> };
const tableName = uniqueId('twilio-death');
const serves: ChildService[] = [];

/** A `serve` process on the shared Bedrock emulator, Redis prefix and DynamoDB, with its own data dir. */
async function startServe(name: string, dataDir: string): Promise<{ serve: ChildService; port: number }> {
  const configFile = join(dir.dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({
    server: { port: 0, metricsPort: 0, resumeGraceMs: 10_000, drainTimeoutMs: 1_000 },
    bedrock: { mode: 'emulator', endpoint: String(emulator.ready.url) },
    agents: { default: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' } },
    memory: { hot: 'redis', keyPrefix: isolated.keyPrefix, durable: 'aws', dynamoEndpoint: dynalite.endpoint, tableName, dataDir },
    accounting: { poolSize: 1 },
    log: { level: 'info' },
    ...twilioConfig(twilio),
  }));
  const serve = await startCli(['serve', '--config', configFile], { AYBIZA_LOG_LEVEL: 'info' }, 'serve.ready');
  serves.push(serve);
  return { serve, port: Number(new URL(String(serve.ready.telephony)).port) };
}

beforeAll(async () => {
  twilio = await startTwilioEmulator();
  emulator = await startEmulatorProcess(script, dir.dir);
  dynalite = await startDynalite();
}, 60_000);

afterAll(async () => {
  await twilio?.close();
  for (const serve of serves) await stopChild(serve, 'SIGKILL');
  if (emulator) await stopChild(emulator);
  await dynalite?.close();
  await isolated.cleanup();
  rmSync(secondDataDir, { recursive: true, force: true });
  dir.remove();
});

describe('a Twilio call whose node dies', () => {
  it('follows <Connect action> to another node, which resumes the call from its stored state; the finished call\'s action hangs up', async () => {
    const [a, b] = await Promise.all([startServe('a', isolated.dataDir), startServe('b', secondDataDir)]);
    let port = a.port;
    twilio.setResolve(toPort(() => port));
    const call = twilio.placeCall({ webhookUrl: `${PUBLIC_URL}/twilio/voice`, from: CALLER, to: LINE });
    const first = await call.nextLine(1);
    first.speak('What are your hours?');
    await until(() => first.heard.length >= 1 && !first.playing, 20_000, 'node A answered');
    expect(first.heard).toEqual([HOURS]);
    // Mid-turn on node A: its answer is playing when the balancer moves to B and A is killed.
    first.speak('Tell me about your services');
    await until(() => first.heard.length >= 2, 20_000, 'node A started the long answer');
    port = b.port;
    a.serve.child.kill('SIGKILL');
    const second = await call.nextLine(2, 30_000);
    const action = call.requests.at(-1)!;
    expect(action.url).toBe(`${PUBLIC_URL}/twilio/action`);
    expect(action.body).toContain('<Parameter name="resume" value="true"/>');
    // On node B the call goes on: the agent asks for what was lost with A, the caller asks again and is answered.
    // One utterance per sentence (the decoder ends each at the sentence gap), so playback pauses
    // between the prompt's two sentences: wait for as many utterances as it has.
    const promptSentences = DEFAULT_REPEAT_PROMPT.split(/(?<=[.?!]) /).length;
    await until(() => second.heard.length >= promptSentences && !second.playing, 20_000, 'node B spoke');
    expect(second.heard.join(' ')).toBe(DEFAULT_REPEAT_PROMPT);
    const prompted = second.heard.length;
    second.speak('What are your hours?');
    await until(() => second.heard.length > prompted, 20_000, 'node B answered');
    expect(second.heard.slice(prompted)).toEqual([HOURS]);
    // Turn one (from A) and B's turn are one history under the one CallSid: four messages reach DynamoDB.
    const stored = async () => countStoredMessages(dynalite.endpoint, tableName, call.callSid);
    for (let attempt = 0; attempt < 100 && (await stored()) < 4; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await stored()).toBe(4);
    call.hangup();
    await call.ended;

    // Twilio requesting the action of the finished call (a late retry) gets <Hangup/>.
    const params = { AccountSid: twilio.accountSid, CallSid: call.callSid, CallStatus: 'in-progress', From: CALLER, To: LINE };
    const response = await fetch(`http://127.0.0.1:${b.port}/twilio/action`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(twilio.authToken, `${PUBLIC_URL}/twilio/action`, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(await response.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  }, 120_000);
});
