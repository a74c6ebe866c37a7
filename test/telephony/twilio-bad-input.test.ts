import { connect } from 'node:net';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaLine } from '../../src/emulator/twilio/media-line.js';
import { twilioSignature } from '../../src/emulator/twilio/signing.js';
import { createLogger } from '../../src/log.js';
import { CALLER, LINE, PUBLIC_URL, startTwilioRig, until, type TwilioRig } from './twilio-fixture.js';

const HOURS = 'We are open Monday to Friday from 8 to 6.';
const VOICE_URL = `${PUBLIC_URL}/twilio/voice`;
const MEDIA_URL = 'ws://aybiza.test/twilio/media';
let rig: TwilioRig;
let base: string;

/** What the node logged at warn and above, one parsed line each. */
const logged: Array<{ level: string; event?: string }> = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line) as { level: string; event?: string });
      done();
    },
  });
  rig = await startTwilioRig({ script: { ttftMs: { min: 5, max: 10 }, rules: [{ when: 'hours', reply: HOURS }, { reply: 'Sure.' }] }, log: createLogger({ level: 'warn', destination }) });
  base = `http://127.0.0.1:${new URL(rig.node.url).port}`;
});

afterAll(async () => {
  await rig?.close();
});

const callSid = () => `CA${Math.random().toString(16).slice(2, 10).padEnd(32, '0')}`;

function webhookParams(sid: string): Record<string, string> {
  return { AccountSid: rig.twilio.accountSid, CallSid: sid, CallStatus: 'ringing', Direction: 'inbound', From: CALLER, To: LINE };
}

async function postWebhook(params: Record<string, string>, signature: string | undefined) {
  const response = await fetch(`${base}/twilio/voice`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: await response.text() };
}

async function refusals(): Promise<Record<string, number>> {
  const metric = await rig.node.node.metrics.protocolErrors.get();
  return Object.fromEntries(metric.values.filter((value) => String(value.labels.code).startsWith('twilio_')).map((value) => [String(value.labels.code), value.value]));
}

describe('Twilio input the runtime refuses or ignores', () => {
  it('answers a webhook without a signature, or signed with another token, with 403 and no TwiML', async () => {
    const params = webhookParams(callSid());
    expect(await postWebhook(params, undefined)).toEqual({ status: 403, body: 'missing or invalid X-Twilio-Signature\n' });
    expect(await postWebhook(params, twilioSignature('another-accounts-auth-token-000', VOICE_URL, params))).toEqual({ status: 403, body: 'missing or invalid X-Twilio-Signature\n' });
    // Signed over the URL the server saw instead of the public one Twilio requested.
    expect((await postWebhook(params, twilioSignature(rig.twilio.authToken, `${base}/twilio/voice`, params))).status).toBe(403);
  });

  it('answers a replayed webhook (same CallSid) with 409 and no second stream token', async () => {
    const params = webhookParams(callSid());
    const signature = twilioSignature(rig.twilio.authToken, VOICE_URL, params);
    const first = await postWebhook(params, signature);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect action="http:\/\/aybiza.test\/twilio\/action" method="POST"><Stream url="ws:\/\/aybiza.test\/twilio\/media"><Parameter name="callSid" value="CA[0-9a-f]{32}"\/><Parameter name="agent" value="default"\/>/);
    expect(await postWebhook(params, signature)).toEqual({ status: 409, body: `call ${params.CallSid} was already answered\n` });
  });

  it('answers copies of one webhook arriving together with one stream token, and 409 to the others', async () => {
    const params = webhookParams(callSid());
    const signature = twilioSignature(rig.twilio.authToken, VOICE_URL, params);
    const answers = await Promise.all([postWebhook(params, signature), postWebhook(params, signature), postWebhook(params, signature)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409]);
    expect(answers.filter((answer) => answer.body.includes('name="token"'))).toHaveLength(1);
  });

  it('answers a webhook body over 64 KiB with a 413 the client reads, not a reset connection', async () => {
    for (const bytes of [100_000, 2_000_000]) {
      const response = await fetch(`${base}/twilio/voice`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'irrelevant' },
        body: `Pad=${'a'.repeat(bytes)}`,
      });
      expect([response.status, await response.text()]).toEqual([413, 'request body over 65536 bytes\n']);
    }
  });

  it('counts a webhook whose client went away mid-body, without logging it as a failure', async () => {
    const before = await refusals();
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /twilio/voice HTTP/1.1\r\nHost: aybiza.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nCallSid=CA');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logged.filter((line) => line.level === 'error')).toEqual([]);
    expect(((await refusals()).twilio_webhook_aborted ?? 0) - (before.twilio_webhook_aborted ?? 0)).toBe(1);
  });

  it('gives a call to a number named like an object property (constructor, __proto__, …) the default agent', async () => {
    for (const to of ['constructor', '__proto__', 'hasOwnProperty', 'toString']) {
      const params = { ...webhookParams(callSid()), To: to };
      const answer = await postWebhook(params, twilioSignature(rig.twilio.authToken, VOICE_URL, params));
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('<Parameter name="agent" value="default"/>');
    }
  });

  it('refuses a media-stream upgrade without a valid signature with 403', async () => {
    for (const headers of [{}, { 'x-twilio-signature': twilioSignature('another-accounts-auth-token-000', MEDIA_URL) }]) {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/twilio/media`, { headers });
      const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)));
      expect(status).toBe(403);
    }
  });

  it('closes a stream for a call the webhook never announced, naming why', async () => {
    const line = await MediaLine.open({
      url: MEDIA_URL, connectTo: `${base.replace('http', 'ws')}/twilio/media`, accountSid: rig.twilio.accountSid, authToken: rig.twilio.authToken,
      callSid: callSid(), parameters: { callSid: 'CA0', agent: 'default', resume: 'false', expires: String(Date.now() + 60_000), nonce: 'x', token: 'forged' },
    });
    expect(await line.closed).toEqual({ code: 1008, reason: 'bad stream token: the voice webhook did not announce this stream' });
  });

  it('ignores and counts bad messages on a live call, which goes on unharmed', async () => {
    const before = await refusals();
    const call = rig.call();
    const line = await call.nextLine();
    const sid = line.streamSid;
    line.sendRaw(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: '!!not base64!!' } }));
    line.sendRaw(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.alloc(100, 0xff).toString('base64') } }));
    line.sendRaw(JSON.stringify({ event: 'dance', streamSid: sid }));
    line.sendRaw(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'never-sent' } }));
    line.sendRaw(JSON.stringify({ event: 'dtmf', streamSid: sid, dtmf: { digit: '12' } }));
    line.sendRaw(JSON.stringify({ event: 'media', streamSid: 'MZother', media: { payload: Buffer.alloc(160, 0xff).toString('base64') } }));
    line.sendRaw('{not json');
    line.sendRaw(Buffer.from([1, 2, 3]), true);
    line.speak('What are your hours?');
    await until(() => line.heard.length >= 1, 20_000, 'the agent answered');
    const after = await refusals();
    const grew = (code: string) => (after[code] ?? 0) - (before[code] ?? 0);
    expect([grew('twilio_bad_media'), grew('twilio_unknown_event'), grew('twilio_unknown_mark'), grew('twilio_bad_dtmf'), grew('twilio_wrong_stream'), grew('twilio_bad_json'), grew('twilio_binary_frame')]).toEqual([2, 1, 1, 1, 1, 1, 1]);
    call.hangup();
    await call.ended;
  });

  it('ignores and counts messages before start, and ends a stream stopped before start', async () => {
    const before = await refusals();
    const call = rig.call();
    const line = await call.nextLine();
    // A second start on a started stream is ignored too.
    line.sendRaw(JSON.stringify({ event: 'start', streamSid: line.streamSid, start: { streamSid: line.streamSid, accountSid: rig.twilio.accountSid, callSid: call.callSid, customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
    const raw = new WebSocket(`${base.replace('http', 'ws')}/twilio/media`, { headers: { 'x-twilio-signature': twilioSignature(rig.twilio.authToken, MEDIA_URL) } });
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send(JSON.stringify({ event: 'media', streamSid: 'MZ1', media: { payload: Buffer.alloc(160, 0xff).toString('base64') } }));
    raw.send(JSON.stringify({ event: 'mark', streamSid: 'MZ1', mark: { name: 'x' } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await refusals();
    expect((after.twilio_before_start ?? 0) - (before.twilio_before_start ?? 0)).toBe(2);
    expect((after.twilio_already_started ?? 0) - (before.twilio_already_started ?? 0)).toBe(1);
    // `stop` before `start` ends the stream.
    const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
    raw.send(JSON.stringify({ event: 'stop', streamSid: 'MZ1', stop: {} }));
    expect(await closed).toBe(1000);
    call.hangup();
    await call.ended;
  });
});
