import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { startNode } from '../src/runtime/node.js';

/**
 * Prints the `/metrics` exposition of a node that has answered one call, for `promtool check
 * metrics` in CI: the series a real scrape holds, not an empty registry.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'aybiza-scrape-'));
const config = loadConfig({ env: {}, overrides: { server: { port: 0, metricsPort: 0 }, memory: { dataDir, hot: 'memory' }, log: { level: 'silent' } } });
const node = await startNode({ config, log: createLogger({ level: 'silent' }) });
try {
  await oneCall(node.telephonyUrl);
  const response = await fetch(`${node.metricsUrl}/metrics`);
  process.stdout.write(await response.text());
} finally {
  await node.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}

async function oneCall(url: string): Promise<void> {
  const socket = new WebSocket(url, ['aybiza.v1']);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const frames: Array<{ type: string; id?: string; last?: boolean }> = [];
  const answered = new Promise<void>((resolve) => socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id?: string; last?: boolean };
    frames.push(frame);
    if (frame.type === 'say' && frame.last) resolve();
  }));
  socket.send(JSON.stringify({ type: 'start', callId: `scrape-${Date.now()}`, from: '+15551000000' }));
  socket.send(JSON.stringify({ type: 'transcript', text: 'When are you open?', final: true }));
  await answered;
  for (const frame of frames) if (frame.type === 'say') socket.send(JSON.stringify({ type: 'played', id: frame.id }));
  socket.send(JSON.stringify({ type: 'hangup' }));
  socket.close();
}
