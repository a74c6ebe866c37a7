import * as zlib from 'node:zlib';
import { crc32 as tableCrc32 } from '../llm/crc32.js';

/** Total length (4), headers length (4), prelude CRC (4). */
const PRELUDE_BYTES = 12;

/**
 * `zlib.crc32` where Node has it (20.15+): over a 1.9 KB audio envelope it took 0.7 µs against
 * 1.7–2.3 µs for the table loop of src/llm/crc32.ts (200,000 envelopes, loaded 2-core machine);
 * the table loop wins only on Bedrock's short messages, which is why that module keeps it.
 */
const nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
const crc32 = nativeCrc32
  ? (bytes: Uint8Array, start: number, end: number, previous = 0) => nativeCrc32(bytes.subarray(start, end), previous)
  : tableCrc32;

/**
 * One event-stream message written into one Buffer, as the SDK's codec frames it: the prelude and
 * its CRC, `headersLength` bytes of headers that `writeHeaders` puts at `at` (it may read what it
 * wrote there, as a signer hashes its `:date`), the body, the message CRC.
 */
export function encodeEventMessage(headersLength: number, body: Uint8Array, writeHeaders: (out: Buffer, at: number) => void): Buffer {
  const total = PRELUDE_BYTES + headersLength + body.length + 4;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headersLength, 4);
  const preludeCrc = crc32(out, 0, 8);
  out.writeUInt32BE(preludeCrc, 8);
  writeHeaders(out, PRELUDE_BYTES);
  out.set(body, PRELUDE_BYTES + headersLength);
  out.writeUInt32BE(crc32(out, 8, total - 4, preludeCrc), total - 4);
  return out;
}
