/**
 * Redis key names. The call id is a hash tag (`{callId}`) so every key of one call lands in one
 * Redis Cluster slot and a script may touch them together.
 */
export interface CallKeys {
  msgs: string;
  seq: string;
  snap: string;
}

export const callKeys = (prefix: string, callId: string): CallKeys => ({
  msgs: `${prefix}{${callId}}:msgs`,
  seq: `${prefix}{${callId}}:seq`,
  snap: `${prefix}{${callId}}:snap`,
});

export const responseCacheRedisKey = (prefix: string, key: string): string => `${prefix}rc:${key}`;

/** The URL with its password replaced, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>';
  }
}
