import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallerClient } from '../integration/caller-client.js';
import { isolation, startDynalite } from '../memory/memory-fixtures.js';
import { startCli, startEmulatorProcess, stopChild, type ChildService } from './cli-process.js';
import { countStoredMessages, tempDir, uniqueId } from './reliability-node.js';
import { GOODBYE_ON_SHUTDOWN } from '../../src/call/machine.js';

export const SERVE_REPLY = 'Sure, happy to help.';
const script = { ttftMs: { min: 1, max: 5 }, tokensPerSecond: 2_000, rules: [{ reply: SERVE_REPLY }] };

/** The world a `serve` child runs in: an emulator process, dynalite and Redis that outlive it. */
interface ServeWorld {
  configFile: string;
  emulatorUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  startServe(): Promise<ChildService & { url: string }>;
  close(): Promise<void>;
}

async function startServeWorld(name: string, server: Record<string, unknown>): Promise<ServeWorld> {
  const dir = tempDir(name);
  const isolated = isolation(name);
  const emulator = await startEmulatorProcess(script, dir.dir);
  const dynalite = await startDynalite();
  const tableName = uniqueId(name);
  const configFile = join(dir.dir, 'aybiza.json');
  writeFileSync(configFile, JSON.stringify({
    server: { port: 0, metricsPort: 0, maxCalls: 1_000, ...server },
    bedrock: { mode: 'emulator', endpoint: emulator.url },
    agents: { default: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' } },
    memory: { hot: 'redis', keyPrefix: isolated.keyPrefix, durable: 'aws', dynamoEndpoint: dynalite.endpoint, tableName, dataDir: isolated.dataDir },
    accounting: { poolSize: 1 },
    log: { level: 'info' },
  }));
  return {
    configFile,
    emulatorUrl: emulator.url,
    dynamoEndpoint: dynalite.endpoint,
    tableName,
    startServe: async () => {
      const serve = await startCli(['serve', '--config', configFile], { AYBIZA_LOG_LEVEL: 'info' }, 'serve.ready');
      return { ...serve, url: String(serve.ready.telephony) };
    },
    close: async () => {
      await stopChild(emulator);
      await dynalite.close();
      await isolated.cleanup();
      dir.remove();
    },
  };
}

async function storedFor(world: ServeWorld, callIds: string[]): Promise<number> {
  let total = 0;
  for (const callId of callIds) total += await countStoredMessages(world.dynamoEndpoint, world.tableName, callId);
  return total;
}

async function untilStored(world: ServeWorld, callIds: string[], expected: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let stored = await storedFor(world, callIds);
  while (stored < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stored = await storedFor(world, callIds);
  }
  return stored;
}

async function openCalls(url: string, count: number, prefix: string): Promise<{ callers: CallerClient[]; callIds: string[]; resumeTokens: string[] }> {
  const callIds = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  const callers = await Promise.all(callIds.map(() => CallerClient.connect(url)));
  for (const caller of callers) caller.ws.on('error', () => undefined);
  const readies = await Promise.all(callers.map((caller, index) => caller.start({ callId: callIds[index] })));
  return { callers, callIds, resumeTokens: readies.map((ready) => ready.resumeToken) };
}

const saidReply = (says: Array<{ text: string }>) => says.map((say) => say.text).join(' ') === SERVE_REPLY;

export interface DrainResult {
  calls: number;
  exitCode: number | null;
  refusedWhileDraining: boolean;
  /** Callers that heard the goodbye and got hangup(shutdown). */
  endedPolitely: number;
  expectedMessages: number;
  storedMessages: number;
}

/** SIGTERM to a `serve` with `calls` active calls (one turn each done): drain, goodbye, flush, exit 0. */
export async function runSigtermDrain(calls: number): Promise<DrainResult> {
  const world = await startServeWorld('sigterm', { drainTimeoutMs: 1_000 });
  let serve: (ChildService & { url: string }) | undefined;
  try {
    serve = await world.startServe();
    const { callers, callIds } = await openCalls(serve.url, calls, uniqueId('drain'));
    const turns = await Promise.all(callers.map((caller) => caller.turn('Hello')));
    const answered = turns.filter(saidReply).length;
    serve.child.kill('SIGTERM');
    await serve.waitFor('node.draining', 10_000);
    const refusedWhileDraining = await CallerClient.connect(serve.url).then((caller) => {
      caller.close();
      return false;
    }, () => true);
    const { code } = await serve.exited;
    await Promise.all(callers.map((caller) => caller.closed()));
    const endedPolitely = callers.filter((caller) =>
      caller.frames.some((f) => f.type === 'say' && f.text === GOODBYE_ON_SHUTDOWN && f.last)
      && caller.frames.some((f) => f.type === 'hangup' && f.reason === 'shutdown')).length;
    const expectedMessages = answered * 2;
    return { calls, exitCode: code, refusedWhileDraining, endedPolitely, expectedMessages, storedMessages: await storedFor(world, callIds) };
  } finally {
    if (serve) await stopChild(serve, 'SIGKILL');
    await world.close();
  }
}

export interface KillResult {
  calls: number;
  storedBeforeKill: number;
  storedAfterRestart: number;
  resumed: number;
  /** Resumed calls whose next model request carried the turn before the kill. */
  historyCarried: number;
  answeredAfterResume: number;
  storedAtEnd: number;
}

/**
 * SIGKILL to a `serve` with `calls` active calls; a new `serve` on the same data dir, Redis prefix
 * and DynamoDB; every caller reconnects with `resume` and talks on.
 */
export async function runSigkillResume(calls: number): Promise<KillResult> {
  const world = await startServeWorld('sigkill', { resumeGraceMs: 60_000 });
  const serves: ChildService[] = [];
  try {
    const first = await world.startServe();
    serves.push(first);
    const { callers, callIds, resumeTokens } = await openCalls(first.url, calls, uniqueId('kill'));
    await Promise.all(callers.map((caller, index) => caller.turn(`My name is caller ${index}.`)));
    const storedBeforeKill = await untilStored(world, callIds, calls * 2);
    await stopChild(first, 'SIGKILL');
    await Promise.all(callers.map((caller) => caller.closed()));

    const second = await world.startServe();
    serves.push(second);
    const storedAfterRestart = await storedFor(world, callIds);
    const again = await Promise.all(callIds.map(() => CallerClient.connect(second.url)));
    const ready = await Promise.all(again.map((caller, index) => caller.start({ callId: callIds[index], resume: true, resumeToken: resumeTokens[index] }).then((frame) => frame.resumed, () => false)));
    const turns = await Promise.all(again.map((caller, index) => (ready[index] ? caller.turn('What is my name?') : Promise.resolve([]))));
    const answeredAfterResume = turns.filter(saidReply).length;
    let historyCarried = 0;
    for (const [index, callId] of callIds.entries()) {
      const records = await (await fetch(`${world.emulatorUrl}/_emulator/requests?callId=${encodeURIComponent(callId)}`)).json() as Array<{ body: { messages: unknown[] } }>;
      const last = JSON.stringify(records.at(-1)?.body.messages ?? []);
      if (records.length >= 2 && last.includes(`My name is caller ${index}.`) && last.includes('What is my name?')) historyCarried += 1;
    }
    for (const caller of again) caller.send({ type: 'hangup' });
    await Promise.all(again.map((caller) => caller.closed()));
    const storedAtEnd = await untilStored(world, callIds, storedBeforeKill + answeredAfterResume * 2);
    return {
      calls, storedBeforeKill, storedAfterRestart, resumed: ready.filter(Boolean).length, historyCarried, answeredAfterResume, storedAtEnd,
    };
  } finally {
    for (const serve of serves) await stopChild(serve);
    await world.close();
  }
}
