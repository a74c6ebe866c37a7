import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function aybiza(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('aybiza usage', () => {
  it('prints its version', () => {
    expect(aybiza('--version')).toEqual({ status: 0, stdout: `aybiza ${version}\n`, stderr: '' });
  });

  it('names an unknown command and the known ones', () => {
    const { status, stderr } = aybiza('srve');
    expect(status).toBe(2);
    expect(stderr).toBe('aybiza: unknown command "srve"; the commands are serve, call, emulator, load (aybiza --help lists their flags)\n');
  });

  it.each([
    ['serve', ['--host', '--port', '--metrics-port', '--config', 'AYBIZA_PORT']],
    ['call', ['--url', '--token', '--agent', '--playback-ms-per-word', '/dtmf', '/interrupt', '/hangup']],
    ['emulator', ['--host', '--port', '--transcribe-port', '--polly-port', '--script', '--scenarios', '--seed', '--request-log-size']],
    ['load', ['--check', '--print-config', '--calls', '--ramp', '--url', '--token', '--agent', '--emulator', '--report', '--seed', '--workers', '--playback-ms-per-word', '--turn-timeout-ms', '--show', '--pace', '--arrivals']],
  ])('answers `%s --help` with every flag of the command', (command, flags) => {
    const { status, stdout } = aybiza(command, '--help');
    expect(status).toBe(0);
    expect(stdout).toMatch(new RegExp(`^usage: aybiza ${command}`));
    for (const flag of flags) expect(stdout).toContain(flag);
  });

  it('lists every command and points to the environment variables in the overview', () => {
    const { status, stdout } = aybiza('--help');
    expect(status).toBe(0);
    for (const command of ['serve', 'call', 'emulator', 'load']) expect(stdout).toContain(`usage: aybiza ${command}`);
    expect(stdout).toContain('AYBIZA_* environment');
  });
});
