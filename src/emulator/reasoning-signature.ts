import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs the reasoning the emulator emits and checks it when it comes back, as Bedrock refuses a
 * thinking block whose signature it did not issue. The key is fixed, not per instance, so a
 * restarted emulator still accepts the history of calls that outlived it.
 */
const KEY = 'aybiza-emulator-reasoning-v1';
const REDACTED_NONCE_BYTES = 16;

const mac = (data: string | Uint8Array): Buffer => createHmac('sha256', KEY).update(data).digest();

export const signReasoning = (text: string): string => mac(text).toString('base64');

export function verifyReasoning(text: string, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  const expected = mac(text);
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** An opaque redacted-thinking blob: a nonce and its MAC, so the bytes can be recognised on return. */
export function redactedBlob(random: () => number): Uint8Array {
  const nonce = Buffer.from(Array.from({ length: REDACTED_NONCE_BYTES }, () => Math.floor(random() * 256)));
  return Buffer.concat([nonce, mac(nonce)]);
}

/** `base64` is the blob as it arrives in a JSON request body. */
export function verifyRedacted(base64: unknown): boolean {
  if (typeof base64 !== 'string') return false;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== REDACTED_NONCE_BYTES + 32) return false;
  return timingSafeEqual(bytes.subarray(REDACTED_NONCE_BYTES), mac(bytes.subarray(0, REDACTED_NONCE_BYTES)));
}
