import { Readable } from 'node:stream';
import { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TRANSCRIBE_ENCODER_KINDS, transcribeEncoding, type TranscribeEncoderKind } from '../../src/speech/transcribe-encoding.js';

/**
 * Each signer runs inside a real TranscribeStreamingClient: the handler under test is the one the
 * client resolved (`config.eventStreamPayloadHandler`), with the client's SigV4 signer, credential
 * provider and clock offset, so the SDK's side is exactly what `send` would run. Only the HTTP
 * exchange (`next`) is this test's: it hands back the body the handler built. Both handlers read
 * `Date.now()` per event, and the fake clock is moved only between events.
 */
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
type Prior = { kind: 'header'; signature: string } | { kind: 'query'; signature: string } | { kind: 'both'; header: string; query: string } | { kind: 'none' } | { kind: 'static'; signature: string };
interface Stream {
  region: string;
  systemClockOffset: number;
  prior: Prior;
  events: Array<{ payload: Uint8Array; atMs: number }>;
}

const clients: TranscribeStreamingClient[] = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(() => {
  vi.useRealTimers();
  for (const client of clients.splice(0)) client.destroy();
});

function clientFor(kind: TranscribeEncoderKind, region: string, credentials: Credentials | (() => Promise<Credentials>), systemClockOffset = 0): TranscribeStreamingClient {
  const client = new TranscribeStreamingClient({ region, credentials, systemClockOffset, maxAttempts: 1, ...transcribeEncoding(kind) });
  clients.push(client);
  return client;
}

function requestOf(prior: Prior, body: Readable) {
  const authorization = (signature: string) => `AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/transcribe/aws4_request, SignedHeaders=host, Signature=${signature}`;
  const headers: Record<string, string> = { host: 'transcribestreaming.us-east-1.amazonaws.com' };
  const query: Record<string, string> = {};
  if (prior.kind === 'header' || prior.kind === 'static') headers.authorization = authorization(prior.signature);
  if (prior.kind === 'query') query['X-Amz-Signature'] = prior.signature;
  if (prior.kind === 'both') {
    headers.authorization = authorization(prior.header);
    query['X-Amz-Signature'] = prior.query;
  }
  return { method: 'POST', protocol: 'https:', hostname: 'transcribestreaming.us-east-1.amazonaws.com', path: '/stream-transcription', headers, query, body };
}

/** What the handler sends for the stream's events, one envelope per event, each signed at its own time. */
async function envelopes(client: TranscribeStreamingClient, stream: Stream): Promise<Buffer[]> {
  vi.setSystemTime(stream.events[0]?.atMs ?? Date.UTC(2026, 11, 4));
  const payload = new Readable({ objectMode: true, read: () => undefined });
  let giveBody: (body: Readable) => void = () => undefined;
  const bodyGiven = new Promise<Readable>((resolve) => (giveBody = resolve));
  let bodyEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (bodyEnded = resolve));
  const next = async (args: { request: { body: unknown } }) => {
    giveBody(args.request.body as Readable);
    await ended;
    return { response: { statusCode: 200, headers: {} }, output: { $metadata: {} } };
  };
  const handled = client.config.eventStreamPayloadHandler.handle(next as never, { request: requestOf(stream.prior, payload), input: {} } as never, stream.prior.kind === 'static' ? { __staticSignature: true } : {});
  const body = (await bodyGiven)[Symbol.asyncIterator]();
  const sent: Buffer[] = [];
  for (const event of stream.events) {
    vi.setSystemTime(event.atMs);
    payload.push(event.payload);
    const { value, done } = await body.next();
    expect(done).toBe(false);
    sent.push(Buffer.from(value as Uint8Array));
  }
  payload.push(null);
  expect((await body.next()).done).toBe(true);
  bodyEnded();
  await handled;
  return sent;
}

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));
const priors: fc.Arbitrary<Prior> = fc.oneof(
  hex64.map((signature) => ({ kind: 'header' as const, signature })),
  hex64.map((signature) => ({ kind: 'query' as const, signature })),
  fc.record({ header: hex64, query: hex64 }).map((both) => ({ kind: 'both' as const, ...both })),
  fc.constant({ kind: 'none' as const }),
  hex64.map((signature) => ({ kind: 'static' as const, signature })),
);
const credentialsArbitrary: fc.Arbitrary<Credentials> = fc.record(
  {
    accessKeyId: fc.stringMatching(/^AKIA[A-Z0-9]{16}$/),
    secretAccessKey: fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
    sessionToken: fc.string({ minLength: 1, maxLength: 60 }),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);
/** 100 ms of 8 kHz PCM16 and the other sizes an AudioStream may carry: none (the end frame), odd, large. */
const payloads = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ minLength: 1_600, maxLength: 1_600 }),
  fc.uint8Array({ minLength: 0, maxLength: 9 }),
  fc.uint8Array({ minLength: 0, maxLength: 4_001 }),
);
/** From a little before a UTC midnight, so that many chains cross a day (a new signing key) and most cross seconds. */
const streams: fc.Arbitrary<Stream> = fc
  .record({
    region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
    systemClockOffset: fc.oneof(fc.constant(0), fc.integer({ min: -900_000, max: 900_000 })),
    prior: priors,
    startMs: fc.integer({ min: Date.UTC(2026, 11, 4, 23, 59, 58), max: Date.UTC(2026, 11, 5, 0, 0, 1) }),
    events: fc.array(fc.record({ payload: payloads, gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 150 }), fc.integer({ min: 0, max: 90_000_000 })) }), { minLength: 1, maxLength: 12 }),
  })
  .map(({ region, systemClockOffset, prior, startMs, events }) => {
    let atMs = startMs;
    return {
      region,
      systemClockOffset,
      prior,
      events: events.map(({ payload, gapMs }) => {
        atMs += gapMs;
        return { payload, atMs };
      }),
    };
  });

describe('lean Transcribe event signing', () => {
  it('sends byte for byte what the SDK handler sends, for any events, dates, clock offsets and prior signatures', async () => {
    await fc.assert(
      fc.asyncProperty(credentialsArbitrary, streams, async (credentials, stream) => {
        const sdk = await envelopes(clientFor('sdk', stream.region, credentials, stream.systemClockOffset), stream);
        const lean = await envelopes(clientFor('lean', stream.region, credentials, stream.systemClockOffset), stream);
        expect(lean.map((bytes) => bytes.toString('hex'))).toEqual(sdk.map((bytes) => bytes.toString('hex')));
        for (const client of clients.splice(0)) client.destroy();
      }),
      { numRuns: 150 },
    );
  });

  it('signs each new stream with the credentials the provider has then, as the SDK does', async () => {
    const refreshing = () => {
      let issued = 0;
      // Expiring within the SDK's refresh window: the memoized provider asks again at every stream.
      return async (): Promise<Credentials> => {
        issued += 1;
        return { accessKeyId: `AKIAREFRESH${issued}`, secretAccessKey: `secret-${issued}`, expiration: new Date(Date.now() + 60_000) };
      };
    };
    const stream: Stream = { region: 'us-east-1', systemClockOffset: 0, prior: { kind: 'none' }, events: [{ payload: new Uint8Array(1_600).fill(3), atMs: Date.UTC(2026, 11, 4, 12) }] };
    const sdk = clientFor('sdk', 'us-east-1', refreshing());
    const lean = clientFor('lean', 'us-east-1', refreshing());
    const first = await envelopes(lean, stream);
    expect(first).toEqual(await envelopes(sdk, stream));
    const second = await envelopes(lean, stream);
    expect(second).toEqual(await envelopes(sdk, stream));
    expect(second).not.toEqual(first);
  });

  it.each(TRANSCRIBE_ENCODER_KINDS)('%s: refuses credentials without a secret through the pipeline, as the SDK does', async (kind) => {
    const client = clientFor(kind, 'us-east-1', async () => ({ accessKeyId: 'AKIA' }) as Credentials);
    const payload = Readable.from([new Uint8Array(4)], { objectMode: true });
    const next = async (args: { request: { body: Readable } }) => {
      args.request.body.resume();
      return new Promise(() => undefined);
    };
    const handled = client.config.eventStreamPayloadHandler.handle(next as never, { request: requestOf({ kind: 'none' }, payload), input: {} } as never);
    await expect(handled).rejects.toThrow(/Pipeline error.*Resolved credential object is not valid/);
  });

  it.each(TRANSCRIBE_ENCODER_KINDS)('%s: a failed request ends the body and tears down the audio still flowing in', async (kind) => {
    const client = clientFor(kind, 'us-east-1', { accessKeyId: 'AKIA', secretAccessKey: 'secret' });
    let closed = false;
    const audio = (async function* () {
      try {
        for (;;) {
          yield new Uint8Array(320);
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        closed = true;
      }
    })();
    const payload = Readable.from(audio, { objectMode: true });
    const refused = new Error('refused');
    const next = async (args: { request: { body: Readable } }) => {
      args.request.body.resume();
      await new Promise((resolve) => setImmediate(resolve));
      throw refused;
    };
    const handled = client.config.eventStreamPayloadHandler.handle(next as never, { request: requestOf({ kind: 'none' }, payload), input: {} } as never);
    await expect(handled).rejects.toBe(refused);
    await vi.waitUntil(() => closed);
  });
});
