import { BatchGetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CALL_RECORD_SEQ, GRANT_SEQ, SNAPSHOT_SEQ, SUMMARY_SEQ } from './records.js';

/**
 * The items a used call id has at least one of, whichever version stored it: its grant (every claim
 * since grants), its snapshot, summary or record, or its first message (history from before grants).
 */
const EVIDENCE_SEQS = [GRANT_SEQ, SNAPSHOT_SEQ, SUMMARY_SEQ, CALL_RECORD_SEQ, 1].map(String);
/** BatchGetItem reads at most 100 keys per request. */
const IDS_PER_REQUEST = Math.floor(100 / EVIDENCE_SEQS.length);
/** Checks waiting while this many requests are out go together in the next one. */
const REQUESTS_IN_FLIGHT = 2;
/** Requests an id may ride while DynamoDB leaves its keys unprocessed (throttling) before its check fails. */
const MAX_ATTEMPTS = 3;

interface Waiting {
  callId: string;
  attempts: number;
  resolve(known: boolean): void;
  reject(error: unknown): void;
}

/**
 * Whether call ids have anything stored, many ids per BatchGetItem. A new call's start asks this for
 * its id, so a burst of arrivals asked one Query each: 875 µs of CPU per id for client and dynalite
 * together, and at 250 new calls a second the DynamoDB client's sockets queued. A request for 4 ids
 * costs 375 µs per id, for 20 ids 242 µs, and one id alone about what its Query did, 849 µs
 * (`npx tsx bench/call-id-check.ts`, docs/capacity.md). Checks asked in the same turn of
 * the event loop, or while requests are out, share a request; an id alone goes at once, so a quiet
 * node waits no longer than before. Keys DynamoDB leaves unprocessed are asked again, a few times.
 */
export class CallIdChecks {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly client: DynamoDBClient, private readonly table: string) {}

  known(callId: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ callId, attempts: 0, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= REQUESTS_IN_FLIGHT || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < REQUESTS_IN_FLIGHT && this.waiting.length > 0) this.send(this.waiting.splice(0, IDS_PER_REQUEST));
    });
  }

  private send(batch: Waiting[]): void {
    this.inFlight += 1;
    this.read(batch).then(
      ({ found, unprocessed }) => {
        for (const check of batch) {
          check.attempts += 1;
          if (found.has(check.callId)) check.resolve(true);
          else if (!unprocessed.has(check.callId)) check.resolve(false);
          else if (check.attempts < MAX_ATTEMPTS) this.waiting.push(check);
          else check.reject(new Error(`DynamoDB left the check of call id ${check.callId} unprocessed ${MAX_ATTEMPTS} times`));
        }
      },
      (error: unknown) => batch.forEach((check) => check.reject(error)),
    ).finally(() => {
      this.inFlight -= 1;
      this.schedule();
    });
  }

  private async read(batch: Waiting[]): Promise<{ found: Set<string>; unprocessed: Set<string> }> {
    const ids = new Set(batch.map((check) => check.callId));
    const keys: Array<Record<string, AttributeValue>> = [];
    for (const id of ids) for (const seq of EVIDENCE_SEQS) keys.push({ call_id: { S: id }, seq: { N: seq } });
    const result = await this.client.send(new BatchGetItemCommand({
      RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: 'call_id', ConsistentRead: true } },
    }));
    const found = new Set<string>();
    for (const item of result.Responses?.[this.table] ?? []) if (item.call_id?.S) found.add(item.call_id.S);
    const unprocessed = new Set<string>();
    for (const key of result.UnprocessedKeys?.[this.table]?.Keys ?? []) if (key.call_id?.S) unprocessed.add(key.call_id.S);
    return { found, unprocessed };
  }
}
