import * as crypto from 'node:crypto';
import { encodeEventMessage } from './event-stream-message.js';

/** What signs the chain: the credentials resolved for one stream, and the scope's region and service. */
export interface ChunkSigningScope {
  secretAccessKey: string;
  region: string;
  service: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256-PAYLOAD';
/** `:date` (name length 5, type 8 = timestamp, 8-byte big-endian milliseconds). */
const DATE_HEADER = Buffer.from([5, ...Buffer.from(':date'), 8]);
const DATE_HEADER_BYTES = DATE_HEADER.length + 8;
/** `:chunk-signature` (name length 16, type 6 = binary, 2-byte length 32). */
const SIGNATURE_HEADER = Buffer.from([16, ...Buffer.from(':chunk-signature'), 6, 0, 32]);
const SIGNATURE_BYTES = 32;
const HEADERS_BYTES = DATE_HEADER_BYTES + SIGNATURE_HEADER.length + SIGNATURE_BYTES;

/**
 * One event stream's SigV4 chunk-signature chain (`@smithy/signature-v4` `signEvent`, as
 * `@aws-sdk/eventstream-handler-node` drives it), writing each signed envelope in one Buffer.
 *
 * Per 100 ms audio event the SDK's path costs (serve profile, 200 Twilio calls): a Date, an ISO
 * string and two regex replaces, the signing-key cache lookup (itself an HMAC of the secret and a
 * hex string, 3 %), two `Sha256` objects of @smithy/core and one HMAC (4 %), and the codec's header
 * objects and `encode` (5 %). Here the key is derived once per day of the chain, the date strings
 * once per second, the three digests are node:crypto calls, and the envelope (prelude, `:date`,
 * `:chunk-signature`, payload, CRCs) is written in place. The bytes are the SDK's for the same
 * credentials, date and prior signature (test/speech/event-signing.test.ts).
 */
export class ChunkSigner {
  private day = '';
  private scope = '';
  private key: Buffer = Buffer.alloc(0);
  private second = Number.NaN;
  private longDate = '';

  constructor(
    private readonly signing: ChunkSigningScope,
    private priorSignature: string,
  ) {}

  /** The envelope of `payload` signed at `nowMs` (epoch milliseconds); the chain moves on to its signature. */
  sign(payload: Uint8Array, nowMs: number): Buffer {
    return encodeEventMessage(HEADERS_BYTES, payload, (out, dateAt) => {
      DATE_HEADER.copy(out, dateAt);
      out.writeBigInt64BE(BigInt(nowMs), dateAt + DATE_HEADER.length);
      const dateHeader = out.subarray(dateAt, dateAt + DATE_HEADER_BYTES);

      this.dateStrings(nowMs);
      const stringToSign = `${ALGORITHM}\n${this.longDate}\n${this.scope}\n${this.priorSignature}\n${hexSha256(dateHeader)}\n${hexSha256(payload)}`;
      const signature = crypto.createHmac('sha256', this.key).update(stringToSign).digest();
      this.priorSignature = signature.toString('hex');

      const signatureAt = dateAt + DATE_HEADER_BYTES;
      SIGNATURE_HEADER.copy(out, signatureAt);
      signature.copy(out, signatureAt + SIGNATURE_HEADER.length);
    });
  }

  /** The ISO basic date of `nowMs`'s second (`20261204T185512Z`, as signEvent's formatDate), the scope and key of its day. */
  private dateStrings(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.second) return;
    this.second = second;
    const iso = new Date(second * 1000).toISOString();
    const day = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
    this.longDate = `${day}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
    if (day === this.day) return;
    const { secretAccessKey, region, service } = this.signing;
    this.day = day;
    this.scope = `${day}/${region}/${service}/aws4_request`;
    this.key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  }
}

/**
 * `crypto.hash` where Node has it (20.12+): one call, no Hash object; 0.35 against 0.76 µs for the
 * 15-byte `:date` header and 1.27 against 1.65 µs for a 1.7 KB inner message (200,000 each).
 */
const oneShotHash: ((algorithm: string, data: Uint8Array, encoding: 'hex') => string) | undefined = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;
const hexSha256 = oneShotHash
  ? (data: Uint8Array): string => oneShotHash('sha256', data, 'hex')
  : (data: Uint8Array): string => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => crypto.createHmac('sha256', key).update(data).digest();
