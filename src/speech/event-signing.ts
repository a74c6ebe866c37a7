import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import type { TranscribeStreamingClientConfig } from '@aws-sdk/client-transcribe-streaming';
import { ChunkSigner } from './chunk-signer.js';

type PayloadHandlerProvider = NonNullable<TranscribeStreamingClientConfig['eventStreamPayloadHandlerProvider']>;
type PayloadHandler = ReturnType<PayloadHandlerProvider>;

/** The client's resolved configuration, as resolveEventStreamConfig passes it (the one object every resolver fills). */
interface ClientConfig {
  /** The SigV4 signer factory; calling it settles `signingRegion` and `signingName` as the SDK's event signer sees them. */
  messageSigner: () => Promise<unknown>;
  credentials: () => Promise<{ accessKeyId?: unknown; secretAccessKey?: unknown }>;
  /** Moved by the SDK's clock-skew correction; read at each event, as the SDK's handler does. */
  systemClockOffset?: number;
  signingRegion?: string;
  signingName?: string;
}

interface EventStreamRequest {
  body: unknown;
  headers?: Record<string, string | undefined>;
  query?: Record<string, unknown>;
}

/**
 * Why this hook: `eventStreamPayloadHandlerProvider` is the client's configuration for what the
 * event-stream middleware (after SigV4 auth) does with the request body, the SDK's own being
 * `@aws-sdk/eventstream-handler-node`. Everything before and after stays the SDK's: the
 * AudioStream's serialization into inner messages, the request's signature, endpoints, HTTP/2,
 * the response. This one keeps the SDK handler's contract — the prior signature from the
 * `authorization` header or the `X-Amz-Signature` query (none under `__staticSignature`), the
 * credentials resolved once per stream from the client's provider, the clock offset read at each
 * event, a pipeline error racing the response, the body ended when the request fails — with one
 * Transform where the SDK has its Transform and a PassThrough, and a synchronous `_transform`
 * once the credentials are in (the SDK's awaits twice per event).
 */
export const leanEventStreamPayloadHandlerProvider: PayloadHandlerProvider = (options: ClientConfig) => {
  const credentials = options.credentials;
  const handler = {
    async handle(next: (args: unknown) => Promise<unknown>, args: { request: EventStreamRequest }, context: { __staticSignature?: boolean } = {}) {
      const request = args.request;
      const payload = request.body;
      if (!(payload instanceof Readable)) throw new Error('Eventstream payload must be a Readable stream.');
      const match = request.headers?.authorization?.match(/Signature=(\w+)$/);
      const priorSignature = context.__staticSignature ? '' : (match?.[1] ?? (request.query?.['X-Amz-Signature'] as string | undefined) ?? '');
      await options.messageSigner();
      const { signingRegion: region, signingName: service } = options;
      if (!region || !service) throw new Error('Transcribe event signing: the client resolved no signing region or service');
      const signer = credentials().then((identity) => {
        if (typeof identity !== 'object' || typeof identity.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string') {
          throw new Error('Resolved credential object is not valid');
        }
        return new ChunkSigner({ secretAccessKey: identity.secretAccessKey, region, service }, priorSignature);
      });
      // A stream that ends before its first event never awaits the credentials; their failure is then no one's.
      signer.catch(() => undefined);
      // The SDK's `new Date(Date.now() + offset)`: whole milliseconds, as Date keeps them.
      const body = new SigningStream(signer, () => Math.trunc(Date.now() + (options.systemClockOffset ?? 0)));
      request.body = body;
      let resolvePipeline = (): void => undefined;
      const pipelineError = new Promise<never>((resolve, reject) => {
        resolvePipeline = () => resolve(undefined as never);
        pipeline(payload, body, (error) => {
          if (error) reject(new Error(`Pipeline error in the Transcribe event signer: ${error.message}`, { cause: error }));
        });
      });
      try {
        return await Promise.race([next(args), pipelineError]);
      } catch (error) {
        // As the SDK's: the audio still flowing in is refused, so the pipeline tears the AudioStream down.
        body.end();
        throw error;
      } finally {
        resolvePipeline();
      }
    },
  };
  return handler as PayloadHandler;
};

/** Inner messages in, signed envelopes out, one object per event as the SDK's transform. */
class SigningStream extends Transform {
  private signer: ChunkSigner | undefined;

  constructor(
    private readonly ready: Promise<ChunkSigner>,
    private readonly now: () => number,
  ) {
    super({ autoDestroy: true, readableObjectMode: true, writableObjectMode: true });
  }

  override _transform(chunk: Uint8Array, _encoding: BufferEncoding, callback: TransformCallback): void {
    const signer = this.signer;
    if (signer) {
      this.signInto(signer, chunk, callback);
      return;
    }
    this.ready.then((ready) => {
      this.signer = ready;
      this.signInto(ready, chunk, callback);
    }, callback);
  }

  private signInto(signer: ChunkSigner, chunk: Uint8Array, callback: TransformCallback): void {
    let envelope: Buffer;
    try {
      envelope = signer.sign(chunk, this.now());
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, envelope);
  }
}
