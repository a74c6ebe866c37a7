import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { runEmulatorCommand } from '../../src/cli/emulator.js';

const root = new URL('../../', import.meta.url).pathname;

describe('aybiza emulator', () => {
  it('prints one emulator.ready line with its url, serves the scenario script, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--input-type=module', '-e',
      "const { runEmulatorCommand } = await import('./src/cli/emulator.ts'); await runEmulatorCommand(process.argv.slice(1));",
      '--', '--port', '0', '--script', 'scenarios/faq.json', '--seed', '3',
    ], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AYBIZA_LOG_LEVEL: 'silent' } });
    const firstLine = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const ready = JSON.parse(firstLine) as { event: string; url: string };
    expect(ready.event).toBe('emulator.ready');
    const health = await fetch(`${ready.url}/_emulator/health`);
    expect(health.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('serves the Lambda Invoke API beside Bedrock with --lambda-port, the shipped execute-code by default', async () => {
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--input-type=module', '-e',
      "const { runEmulatorCommand } = await import('./src/cli/emulator.ts'); await runEmulatorCommand(process.argv.slice(1));",
      '--', '--port', '0', '--lambda-port', '0',
    ], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AYBIZA_LOG_LEVEL: 'silent' } });
    const firstLine = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const ready = JSON.parse(firstLine) as { lambdaUrl: string; lambdaFunctions: string[] };
    expect(ready.lambdaFunctions).toEqual(['execute-code']);
    const invoked = await fetch(`${ready.lambdaUrl}/2015-03-31/functions/execute-code/invocations`, { method: 'POST', body: JSON.stringify({ code: '15% of 200' }) });
    expect(await invoked.json()).toMatchObject({ result: '30' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses an invalid script file, naming the file and the JSON path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aybiza-emulator-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify({ rules: [{ when: 'hi', reply: 'x' }], faults: { throttleRate: 3 } }));
      await expect(runEmulatorCommand(['--script', file])).rejects.toThrow(`${file}: faults.throttleRate:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port that is not a port number', async () => {
    await expect(runEmulatorCommand(['--port', 'eighty'])).rejects.toThrow('--port "eighty": expected a non-negative number');
  });
});
