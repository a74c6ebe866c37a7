import { describe, expect, it } from 'vitest';
import { runKillUnderFullQueue } from './full-queue-kill.js';

describe('a turn the caller heard is durable even with the write-behind queue full', () => {
  it('journals every turn before waiting for queue space, so a killed process loses none', async () => {
    // Far more turns finish while DynamoDB is away than the queue holds.
    const outcome = await runKillUnderFullQueue({ calls: 40, maxQueue: 5 });
    expect(outcome).toEqual({ heard: 40, recovered: 40, stored: 40 });
  });
});
