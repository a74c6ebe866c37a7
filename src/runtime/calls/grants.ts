import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CallGrant } from '../../memory/store.js';

export type OpenGrant = Extract<CallGrant, { state: 'open' }>;

/**
 * A new call's resume token (sent once, in `ready`) and the grant memory keeps of it: only the
 * token's sha256 and the principal that started the call, so what is stored never resumes a call.
 */
export function issueGrant(principal: string): { token: string; grant: OpenGrant } {
  const token = randomBytes(32).toString('base64url');
  return { token, grant: { state: 'open', tokenSha256: sha256(token).toString('hex'), principal } };
}

/** Whether a resume presenting `token` as `principal` may take the call: same token, same key, call not ended. */
export function grantAllows(grant: CallGrant | undefined, token: string | undefined, principal: string): boolean {
  if (grant?.state !== 'open' || token === undefined) return false;
  const tokenMatches = timingSafeEqual(sha256(token), Buffer.from(grant.tokenSha256, 'hex'));
  return tokenMatches && grant.principal === principal;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
