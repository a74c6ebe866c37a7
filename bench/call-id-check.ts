import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createLogger } from '../src/log.js';
import { openDurableHistory } from '../src/memory/dynamo-history.js';

/**
 * CPU per new call's id check (is anything stored under this id?), client and an in-process dynalite
 * together, as `process.cpuUsage()` counts them: the batched BatchGetItem check of
 * src/memory/call-id-checks.ts with 1, 4 and 20 ids asked at once, against one Query per id (what
 * the check was before), measured in the same run. The table holds 2,000 used calls.
 *
 *   npx tsx bench/call-id-check.ts [IDS]      (default 2000 ids per row)
 */
const TABLE = 'conversations';

export async function run(ids = 2_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-bench-id-check-'));
  const server = dynalite({ path: dir, createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const history = await openDurableHistory({ region: 'us-east-1', endpoint, tableName: TABLE, localCredentials: true, log: createLogger({ level: 'error' }) });
  const baselineClient = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, cacheMiddleware: true });
  try {
    for (let call = 0; call < 2_000; call += 5) {
      await history.write(Array.from({ length: 5 }, (_, i) => ({ kind: 'grant' as const, callId: `used-${call + i}`, grantJson: '{"state":"ended"}' })));
    }
    const queryEach = (id: string) => baselineClient.send(new QueryCommand({
      TableName: TABLE, KeyConditionExpression: 'call_id = :c', ExpressionAttributeValues: { ':c': { S: id } },
      ProjectionExpression: 'seq', Limit: 1, ConsistentRead: true,
    }));
    const rows: Array<{ label: string; at: number; check: (id: string) => Promise<unknown> }> = [
      { label: 'Query per id (before)', at: 1, check: queryEach },
      { label: 'batched, 1 id at a time', at: 1, check: (id) => history.known(id) },
      { label: 'batched, 4 ids at once', at: 4, check: (id) => history.known(id) },
      { label: 'batched, 20 ids at once', at: 20, check: (id) => history.known(id) },
    ];
    const measure = async (row: (typeof rows)[number], rowIndex: number, round: number): Promise<number> => {
      const before = process.cpuUsage();
      for (let i = 0; i < ids; i += row.at) {
        await Promise.all(Array.from({ length: row.at }, (_, j) => row.check(`new-${round}-${rowIndex}-${i + j}`)));
      }
      const used = process.cpuUsage(before);
      return (used.user + used.system) / ids;
    };
    // Warm both paths, then take the median of three alternating rounds.
    for (const [i, row] of rows.entries()) await measure(row, i, -1);
    const samples = rows.map(() => [] as number[]);
    for (let round = 0; round < 3; round++) for (const [i, row] of rows.entries()) samples[i]!.push(await measure(row, i, round));
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!;
    const baseline = median(samples[0]!);
    console.log('check                          CPU µs per id   vs Query per id');
    for (const [i, row] of rows.entries()) {
      const us = median(samples[i]!);
      console.log(`${row.label.padEnd(30)} ${us.toFixed(0).padStart(13)}   ${(baseline / us).toFixed(2)}×`);
    }
  } finally {
    baselineClient.destroy();
    history.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(Number(process.argv[2] ?? 2_000)).then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
