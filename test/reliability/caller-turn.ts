import type { CallerClient, SayFrame } from '../integration/caller-client.js';

/**
 * One caller turn with its own time bound: the chunks said, each acknowledged as played, or
 * `undefined` when nothing that ends a turn (a `last` chunk or a hangup) came within `timeoutMs`.
 */
export async function callerTurn(caller: CallerClient, text: string, timeoutMs: number): Promise<SayFrame[] | undefined> {
  const from = caller.frames.length;
  caller.send({ type: 'speech_started' });
  caller.send({ type: 'transcript', text, final: true });
  try {
    await caller.next((f) => (f.type === 'say' && f.last) || f.type === 'hangup', timeoutMs);
  } catch {
    return undefined;
  }
  const says = caller.frames.slice(from).filter((f): f is SayFrame => f.type === 'say');
  for (const say of says) caller.send({ type: 'played', id: say.id });
  return says;
}
