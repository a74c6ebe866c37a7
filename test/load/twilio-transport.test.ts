import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/runner.js';

const scenario = (name: string) => fileURLToPath(new URL(`../../scenarios/${name}.json`, import.meta.url));

describe('aybiza load --transport twilio', () => {
  it('runs the shipped scenarios unchanged as audio calls through the emulated Twilio', async () => {
    const report = await runLoad({
      files: [scenario('dtmf-menu'), scenario('transfer-to-human')],
      transport: 'twilio',
      calls: 2,
      seed: 1,
      pace: 'fast',
      turnTimeoutMs: 20_000,
    });
    expect(report.failures).toEqual([]);
    expect(report.calls).toEqual({ started: 2, completed: 2, failed: 0 });
    expect(report.pace).toBe('real time');
    // dtmf-menu: four answered steps; transfer-to-human: two, the second ending in the transfer.
    expect(report.turns).toBe(6);
    expect(report.toolCalls).toBe(1);
  }, 120_000);

  it('gives a scenario that sets speech latencies emulated Transcribe and Polly of its own, and its calls still pass', async () => {
    const faq = JSON.parse(readFileSync(scenario('faq'), 'utf8')) as Record<string, unknown>;
    const file = join(mkdtempSync(join(tmpdir(), 'aybiza-speech-latency-')), 'faq-slow-voice.json');
    writeFileSync(file, JSON.stringify({ ...faq, $schema: undefined, name: 'faq-slow-voice', speech: { endOfSpeechMs: 400, finalDelayMs: 50, pollyFirstByteMs: 80 } }));
    const report = await runLoad({ files: [file, scenario('dtmf-menu')], transport: 'twilio', calls: 2, seed: 2, pace: 'fast', turnTimeoutMs: 20_000 });
    expect(report.failures).toEqual([]);
    expect(report.calls).toEqual({ started: 2, completed: 2, failed: 0 });
  }, 120_000);
});
