import { startTwilioEmulator, type RunningTwilioEmulator } from '../emulator/twilio/server.js';
import { runScheduled, turnRecorder, type GroupProgress, type Histograms, type ScheduledCall } from './client-group.js';
import type { Scenario } from './scenario.js';
import type { CallHooks, CallResult } from './simulated-caller.js';
import { runTwilioCall } from './twilio-caller.js';

/** The public URL the emulated Twilio is told; it reaches the in-process node whatever its port. */
const PUBLIC_URL = 'http://aybiza.load';

export interface TwilioLine {
  emulator: RunningTwilioEmulator;
  /** The node's `twilio` configuration: each scenario's number rings the scenario's agent. */
  configFor(scenarios: Scenario[]): Record<string, unknown>;
  answerAt(port: number): void;
}

/** Each scenario's called number, so that the node picks its agent from `To` as it would for a real number. */
export const scenarioNumber = (index: number): string => `+1555020${String(1_000 + index).slice(-4)}`;

/** The emulated Twilio of a `--transport twilio` run, its balancer pointed at the node once it listens. */
export async function startTwilioLine(): Promise<TwilioLine> {
  let port = 0;
  const emulator = await startTwilioEmulator({
    resolve: (url) => {
      if (url.host !== new URL(PUBLIC_URL).host) return url;
      const target = new URL(url);
      target.host = `127.0.0.1:${port}`;
      return target;
    },
  });
  return {
    emulator,
    configFor: (scenarios) => ({
      twilio: {
        enabled: true, accountSid: emulator.accountSid, authToken: emulator.authToken, publicUrl: PUBLIC_URL, apiBaseUrl: emulator.url,
        numbers: Object.fromEntries(scenarios.map((scenario, index) => [scenarioNumber(index), scenario.name])),
        // The default transfer targets are team names: each rings a number of its own.
        transferTargets: { 'front-desk': '+15550300001', billing: '+15550300002', 'on-call-dentist': '+15550300003' },
      },
    }),
    answerAt: (listening) => {
      port = listening;
    },
  };
}

/** Runs the scheduled calls over the emulated Twilio on this thread (the emulator's calls live here). */
export function runTwilioCalls(
  group: { scenarios: Scenario[]; calls: ScheduledCall[]; turnTimeoutMs: number; progress: GroupProgress; histograms: Histograms; startedAt: number },
  twilio: RunningTwilioEmulator,
  hooks: Pick<CallHooks, 'timings' | 'conversation'>,
): Promise<CallResult[]> {
  const { scenarios, progress, histograms } = group;
  return runScheduled(group.calls, group.startedAt, progress, (call) => runTwilioCall({
    twilio,
    webhookUrl: `${PUBLIC_URL}/twilio/voice`,
    scenario: scenarios[call.scenario]!,
    from: call.from,
    to: scenarioNumber(call.scenario),
    turnTimeoutMs: group.turnTimeoutMs,
  }, { ...hooks, turn: turnRecorder(progress, histograms) }));
}
