import { createHash, timingSafeEqual } from 'node:crypto';
import { LOOPBACK_PRINCIPAL } from '../protocol/calls-port.js';

/**
 * Compares a presented key with every configured key in constant time. Keys are hashed first so
 * the comparison never leaks their lengths, and every key is compared so timing says nothing about
 * which one matched.
 */
export function isAuthorized(authorization: string | undefined, token: string | null, apiKeys: readonly string[]): boolean {
  const presented = bearer(authorization) ?? token;
  if (!presented) return false;
  const digest = sha256(presented);
  let matched = false;
  for (const key of apiKeys) matched = timingSafeEqual(digest, sha256(key)) || matched;
  return matched;
}

/**
 * Who an authorized connection is, for binding a call to the key that started it and counting calls
 * per key: the key's sha256 (never the key), or loopback when the server has no keys.
 */
export function keyPrincipal(authorization: string | undefined, token: string | null, apiKeys: readonly string[]): string {
  if (apiKeys.length === 0) return LOOPBACK_PRINCIPAL;
  return `key:${sha256(bearer(authorization) ?? token ?? '').toString('hex')}`;
}

function bearer(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
