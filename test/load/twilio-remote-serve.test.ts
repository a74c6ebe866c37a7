import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { LoadReport } from '../../src/load/report.js';
import { loadScenarioFile } from '../../src/load/scenario.js';
import { scenarioAgents, scenarioScripts, scenarioTools } from '../../src/load/scenario-agents.js';
import { scenarioNumbers } from '../../src/load/twilio-line.js';
import { freePort } from '../../bench/child-processes.js';
import { startTestNode } from '../integration/test-node.js';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const files = ['dtmf-menu', 'transfer-to-human'].map((name) => fileURLToPath(new URL(`../../scenarios/${name}.json`, import.meta.url)));
const ACCOUNT_SID = `AC${'5'.repeat(32)}`;
const AUTH_TOKEN = 'remote-serve-auth-token-0123456789';
const PUBLIC_URL = 'https://voice.example.test/aybiza';

function aybiza(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ status, stdout, stderr })));
}

describe('aybiza load --transport twilio --url', () => {
  it('rings a separate serve through its public URL: signed webhooks, audio both ways, a transfer over the emulated REST API', async () => {
    const scenarios = files.map(loadScenarioFile);
    // serve's twilio.apiBaseUrl names the emulated REST API before the load starts it.
    const twilioPort = await freePort();
    const node = await startTestNode({
      scripts: scenarioScripts(scenarios),
      config: {
        agents: scenarioAgents(scenarios, loadConfig({ env: {} }).agents.default!),
        tools: scenarioTools(scenarios),
        twilio: { enabled: true, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL, apiBaseUrl: `http://127.0.0.1:${twilioPort}`, ...scenarioNumbers(scenarios) },
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'aybiza-twilio-remote-'));
    try {
      const { status, stderr } = await aybiza([
        'load', ...files, '--calls', '2', '--transport', 'twilio', '--url', node.url, '--public-url', PUBLIC_URL,
        '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN, '--twilio-port', String(twilioPort),
        '--emulator', node.node.bedrockEndpoint!, '--report', join(dir, 'report.json'),
      ]);
      expect(stderr).not.toMatch(/error/i);
      expect(status).toBe(0);
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as LoadReport;
      expect(report.calls).toEqual({ started: 2, completed: 2, failed: 0 });
      // dtmf-menu: four answered steps; transfer-to-human: two, the second ending in the transfer (a REST call update).
      expect(report.turns).toBe(6);
      expect(report.toolCalls).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await node.close();
    }
  }, 120_000);
});
