import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = new URL('../..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'aybiza-npm-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('runs the compiled server, which serves the softphone and drains on a SIGTERM sent to npm', async () => {
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: repo,
      env: { ...process.env, AYBIZA_PORT: '0', AYBIZA_METRICS_PORT: '0', AYBIZA_DATA_DIR: dataDir, AYBIZA_HOT_MEMORY: 'memory' },
    });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => npm.on('close', resolve));
    const ready = new Promise<{ telephony: string }>((resolve) => {
      npm.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        const line = stdout.split('\n').find((text) => text.includes('"serve.ready"'));
        if (line) resolve(JSON.parse(line) as { telephony: string });
      });
    });
    const { telephony } = await ready;
    const page = `http://${new URL(telephony).host}/`;
    const response = await fetch(page);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('AYBIZA softphone');

    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The server itself drained and exited: it is not left running as an orphan.
    expect(stdout).toContain('"serve.signal"');
    await expect(fetch(page)).rejects.toThrow();
  }, 120_000);
});
