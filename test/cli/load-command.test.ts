import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
let dir: string;

function aybiza(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aybiza-load-cli-'));
  writeFileSync(join(dir, 'unmet.json'), JSON.stringify({
    name: 'unmet',
    model: { ttftMs: 5, tokensPerSecond: 500, rules: [{ reply: 'We are open from nine to five.' }] },
    caller: [{ say: 'Are you open on Sunday?', expect: { sayMatches: 'closed on sunday' } }, { hangup: true }],
  }));
  writeFileSync(join(dir, 'broken.json'), JSON.stringify({ name: 'broken', caller: [{ say: 'hi', pauseMs: 5 }] }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aybiza load', () => {
  it('exits non-zero when an expectation fails, naming the call, the step and the reason', () => {
    const { status, stdout } = aybiza('load', join(dir, 'unmet.json'), '--calls', '1', '--seed', '3', '--pace', 'fast');
    expect(status).toBe(1);
    expect(stdout).toMatch(/load-3-\w+-0 \[unmet\] step 0: expected the answer to match \/closed on sunday\/i/);
  });

  it('prints each call\'s conversation with --show', () => {
    const { status, stdout } = aybiza('load', join(dir, 'unmet.json'), '--calls', '1', '--seed', '4', '--show', '--pace', 'fast');
    expect(status).toBe(1);
    expect(stdout).toMatch(/^load-4-\w+-0 caller: Are you open on Sunday\?$/m);
    expect(stdout).toMatch(/^load-4-\w+-0 agent: We are open from nine to five\.$/m);
  });

  it('refuses a broken file with exit 2 before any call, naming file, path and problem', () => {
    const { status, stderr } = aybiza('load', '--check', join(dir, 'broken.json'));
    expect(status).toBe(2);
    expect(stderr).toContain(`${join(dir, 'broken.json')}: invalid scenario`);
    expect(stderr).toContain('caller[0]: a step needs exactly one of say, pauseMs, dtmf, hangup; found say, pauseMs');
  });

  it('refuses an unknown pace with exit 2, naming the paces there are', () => {
    const { status, stderr } = aybiza('load', join(dir, 'unmet.json'), '--pace', 'slow');
    expect(status).toBe(2);
    expect(stderr).toContain('--pace: got "slow" — expected phone or fast');
  });

  it('validates the whole scenario library with --check', () => {
    const { status, stdout } = aybiza('load', '--check', new URL('../../scenarios', import.meta.url).pathname);
    expect(status).toBe(0);
    expect(stdout.trim().split('\n').length).toBeGreaterThanOrEqual(10);
  });
});
