import { pathToFileURL } from 'node:url';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { from } from 'rxjs';
import { tokenize } from '@livekit/agents';
import { SentenceSplitter } from '../src/stream/sentence-splitter.js';
import { sentences } from '../src/stream/sentences.js';

// Replies shaped like a phone agent's: titles, prices, times, URLs, lists, a little markdown.
const REPLIES = [
  'Sure, I can help with that. Your appointment with Dr. Patel is on Tuesday at 10:30 a.m. in room No. 4. Would you like a reminder the day before?',
  'Let me check that for you, one moment. Your order #48213 shipped yesterday and should arrive by Friday. The tracking link is https://track.example.com/48213, and the total came to $127.45 including tax.',
  'Here are your options:\n1. Keep the current plan at $29.99 a month.\n2. Upgrade to Premium for $39.99, which adds international calls.\n3. Cancel at the end of the billing cycle.\nWhich one sounds best?',
  'I understand, that is frustrating... Let me see what I can do. I have issued a refund of $15.00 to your card ending in 4421; it usually takes 3 to 5 business days.',
  'Mr. and Mrs. Alvarez are booked for two nights, i.e. Friday and Saturday, at the St. Regis. Check-in is after 3 p.m. and check-out is before 11 a.m. Is there anything else?',
  'You can reset your password at example.com/reset, or e-mail support@example.com with your account number. Version 2.4.1 of the app also fixes the login issue, so updating helps too!',
  '**Good news:** your claim was approved. The payout is $1,250.00, and it will be sent to the U.S. bank account on file. Do you want me to read back the last four digits?',
  'We are open Monday through Friday, 8 a.m. to 6 p.m., and Saturday from 9 to noon. Our main office is at 221 Baker St. in the city centre, next to the pharmacy, bakery, etc. Parking is free.',
  'The interest rate is 4.75% for 12 months, then 6.2% after that. J. R. Smith from our lending team can call you back tomorrow—would the morning or the afternoon work better?',
  'Great, I have noted that down. To recap:\n- New address: 14 Elm Road\n- Delivery window: 2 to 4 p.m.\n- Contact number ending in 0198\nIs that all correct?',
];

function realisticText(bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const reply = REPLIES[i % REPLIES.length] ?? '';
    parts.push(reply);
    length += reply.length + 2;
  }
  return parts.join('\n\n');
}

function fixedDeltas(text: string, size: number): string[] {
  const deltas: string[] = [];
  for (let i = 0; i < text.length; i += size) deltas.push(text.slice(i, i + size));
  return deltas;
}

/** Roughly what a model streams: a word piece with its leading space. */
function tokenDeltas(text: string): string[] {
  return text.match(/\s*\S{1,5}|\s+/g) ?? [];
}

function oursViaOperator(deltas: string[]): number {
  let chunks = 0;
  from(deltas).pipe(sentences()).subscribe(() => { chunks++; });
  return chunks;
}

function oursViaSplitter(deltas: string[]): number {
  const splitter = new SentenceSplitter();
  let chunks = 0;
  for (const delta of deltas) chunks += splitter.push(delta).length;
  return chunks + splitter.flush().length;
}

async function livekitStream(deltas: string[]): Promise<number> {
  const stream = new tokenize.basic.SentenceTokenizer().stream();
  for (const delta of deltas) stream.pushText(delta);
  stream.endInput();
  let chunks = 0;
  for await (const _token of stream) chunks++;
  return chunks;
}

/** Best of `runs` after `warmups` unmeasured runs, so both sides are compared JIT-compiled. */
async function bestMs(warmups: number, runs: number, work: () => unknown): Promise<{ ms: number; chunks: number }> {
  for (let i = 0; i < warmups; i++) await work();
  let best = Infinity;
  let chunks = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    chunks = Number(await work());
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best, chunks };
}

function oursCharsToFirstChunk(deltas: string[]): number {
  const splitter = new SentenceSplitter();
  let consumed = 0;
  for (const delta of deltas) {
    consumed += delta.length;
    if (splitter.push(delta).length > 0) return consumed;
  }
  return consumed;
}

async function livekitCharsToFirstChunk(deltas: string[]): Promise<number> {
  const stream = new tokenize.basic.SentenceTokenizer().stream();
  let firstSeen = false;
  void stream.next().then(() => { firstSeen = true; });
  let consumed = 0;
  for (const delta of deltas) {
    consumed += delta.length;
    stream.pushText(delta);
    await nextMacrotask();
    if (firstSeen) break;
  }
  stream.close();
  return consumed;
}

const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

export async function run(): Promise<void> {
  const text = realisticText(1_000_000);
  const deltas = fixedDeltas(text, 3);
  const megabytes = text.length / 1e6;

  const operator = await bestMs(3, 7, () => oursViaOperator(deltas));
  const splitter = await bestMs(3, 7, () => oursViaSplitter(deltas));
  // The peer re-tokenizes its whole buffer on every delta, so one run takes seconds; JIT warm-up is noise there.
  const peer = await bestMs(0, 2, () => livekitStream(deltas));

  const rate = (ms: number): number => megabytes / (ms / 1000);
  console.log(`sentences: ${megabytes.toFixed(2)} MB of realistic replies in ${deltas.length} three-character deltas (best run)`);
  console.table([
    { implementation: 'sentences() operator', ms: operator.ms.toFixed(0), 'MB/s': rate(operator.ms).toFixed(2), chunks: operator.chunks, 'x peer': (peer.ms / operator.ms).toFixed(1) },
    { implementation: 'SentenceSplitter.push', ms: splitter.ms.toFixed(0), 'MB/s': rate(splitter.ms).toFixed(2), chunks: splitter.chunks, 'x peer': (peer.ms / splitter.ms).toFixed(1) },
    { implementation: '@livekit/agents basic SentenceTokenizer stream (peer)', ms: peer.ms.toFixed(0), 'MB/s': rate(peer.ms).toFixed(2), chunks: peer.chunks, 'x peer': '1.0' },
  ]);

  const replies = REPLIES.map(tokenDeltas);
  const ours = replies.map(oursCharsToFirstChunk);
  const theirs: number[] = [];
  for (const reply of replies) theirs.push(await livekitCharsToFirstChunk(reply));
  // A model streaming ~50 tokens/s of ~4 characters each delivers about 200 characters a second.
  const charsPerSecond = 200;
  console.log(`time to first chunk: ${REPLIES.length} replies in token-sized deltas, characters the model must stream first`);
  console.table([
    { implementation: 'sentences()', 'mean chars': mean(ours).toFixed(1), 'ms at 200 chars/s': (1000 * mean(ours) / charsPerSecond).toFixed(0) },
    { implementation: '@livekit/agents (peer)', 'mean chars': mean(theirs).toFixed(1), 'ms at 200 chars/s': (1000 * mean(theirs) / charsPerSecond).toFixed(0) },
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
