import { createHash, createHmac } from 'node:crypto';
import type { MessageHeaders } from '@smithy/eventstream-codec';

/**
 * Checks the SigV4 chain of an event stream's signed envelopes (`@smithy/signature-v4`
 * `signEvent`): each `:chunk-signature` is an HMAC, under the key derived for the `:date`'s day,
 * of `AWS4-HMAC-SHA256-PAYLOAD`, the date, the scope, the previous signature (first: the
 * request's), the SHA-256 of the `:date` header in wire form and the SHA-256 of the payload.
 */
export class ChunkSignatureChain {
  private previous: string;

  constructor(
    private readonly secretAccessKey: string,
    private readonly region: string,
    private readonly service: string,
    requestSignature: string,
  ) {
    this.previous = requestSignature;
  }

  /** Whether the envelope's signature is the next link; the chain moves on only if it is. */
  verify(headers: MessageHeaders, payload: Uint8Array): boolean {
    const date = headers[':date'];
    const signature = headers[':chunk-signature'];
    if (date?.type !== 'timestamp' || signature?.type !== 'binary') return false;
    const when = date.value;
    const iso = when.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = iso.slice(0, 8);
    const dateHeader = Buffer.alloc(15);
    dateHeader.writeUInt8(5, 0);
    dateHeader.write(':date', 1, 'ascii');
    dateHeader.writeUInt8(8, 6);
    dateHeader.writeBigInt64BE(BigInt(when.getTime()), 7);
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      iso,
      `${day}/${this.region}/${this.service}/aws4_request`,
      this.previous,
      sha256(dateHeader),
      sha256(payload),
    ].join('\n');
    const expected = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');
    if (Buffer.from(signature.value).toString('hex') !== expected) return false;
    this.previous = expected;
    return true;
  }

  private signingKey(day: string): Buffer {
    const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    return hmac(hmac(hmac(hmac(`AWS4${this.secretAccessKey}`, day), this.region), this.service), 'aws4_request');
  }
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

const AUTHORIZATION = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request,.*Signature=([0-9a-f]{64})/;

/** Region, service and signature of a SigV4 `authorization` header. */
export function parseAuthorization(header: string | undefined): { region: string; service: string; signature: string } | undefined {
  const match = header ? AUTHORIZATION.exec(header) : null;
  return match ? { region: match[1]!, service: match[2]!, signature: match[3]! } : undefined;
}
