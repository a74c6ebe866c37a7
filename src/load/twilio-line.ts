import { startTwilioEmulator, type RunningTwilioEmulator } from '../emulator/twilio/server.js';
import { runScheduled, turnRecorder, type GroupProgress, type Histograms, type ScheduledCall } from './client-group.js';
import type { Scenario } from './scenario.js';
import type { CallHooks, CallResult } from './simulated-caller.js';
import { runTwilioCall, type AudioTurnSample } from './twilio-caller.js';

/** The public URL the emulated Twilio is told; it reaches the in-process node whatever its port. */
const PUBLIC_URL = 'http://aybiza.load';

export interface TwilioLine {
  emulator: RunningTwilioEmulator;
  /** The number's voice webhook, at the public URL. */
  webhookUrl: string;
  /** The node's `twilio` configuration: each scenario's number rings the scenario's agent. */
  configFor(scenarios: Scenario[]): Record<string, unknown>;
  answerAt(port: number): void;
}

/** A separate `serve` the emulated Twilio rings (`aybiza load --transport twilio --url`), and what its `twilio.*` says. */
export interface TwilioRemote {
  /** Where serve's telephony port is reached (an http origin). */
  serveUrl: string;
  /** serve's `twilio.publicUrl`: what the webhooks are signed over and the stream URLs are built from. */
  publicUrl: string;
  accountSid: string;
  authToken: string;
  /** The emulator's REST API port, which serve's `twilio.apiBaseUrl` names (0: any free one). */
  apiPort: number;
}

/** Each scenario's called number, so that the node picks its agent from `To` as it would for a real number. */
export const scenarioNumber = (index: number): string => `+1555020${String(1_000 + index).slice(-4)}`;

/** serve's `twilio.numbers` and `twilio.transferTargets` for the scenarios of a `--transport twilio` run. */
export function scenarioNumbers(scenarios: Scenario[]): { numbers: Record<string, string>; transferTargets: Record<string, string> } {
  return {
    numbers: Object.fromEntries(scenarios.map((scenario, index) => [scenarioNumber(index), scenario.name])),
    // The default transfer targets are team names: each rings a number of its own.
    transferTargets: { 'front-desk': '+15550300001', billing: '+15550300002', 'on-call-dentist': '+15550300003' },
  };
}

/** The emulated Twilio of a `--transport twilio` run, its balancer pointed at the node once it listens, or at `remote`. */
export async function startTwilioLine(remote?: TwilioRemote): Promise<TwilioLine> {
  let port = 0;
  const emulator = await startTwilioEmulator({
    ...(remote ? { accountSid: remote.accountSid, authToken: remote.authToken, port: remote.apiPort } : {}),
    resolve: (url) => {
      if (remote) return behindProxy(url, remote);
      if (url.host !== new URL(PUBLIC_URL).host) return url;
      const target = new URL(url);
      target.host = `127.0.0.1:${port}`;
      return target;
    },
  });
  return {
    emulator,
    webhookUrl: `${remote?.publicUrl ?? PUBLIC_URL}/twilio/voice`,
    configFor: (scenarios) => ({
      twilio: { enabled: true, accountSid: emulator.accountSid, authToken: emulator.authToken, publicUrl: PUBLIC_URL, apiBaseUrl: emulator.url, ...scenarioNumbers(scenarios) },
    }),
    answerAt: (listening) => {
      port = listening;
    },
  };
}

/**
 * A URL under serve's public URL (http for webhooks, ws for streams), as the proxy in front of
 * serve forwards it: the public origin and path prefix replaced by serve's own origin.
 */
function behindProxy(url: URL, remote: TwilioRemote): URL {
  const withoutScheme = (href: string) => href.replace(/^[a-z]+:\/\//, '');
  const publicPart = withoutScheme(remote.publicUrl);
  const requested = withoutScheme(url.href);
  if (!requested.startsWith(publicPart)) return url;
  const scheme = url.protocol.replace(/s?:$/, '') === 'ws' ? 'ws' : 'http';
  return new URL(`${scheme}://${withoutScheme(remote.serveUrl)}${requested.slice(publicPart.length)}`);
}

/** Runs the scheduled calls over the emulated Twilio on this thread (the emulator's calls live here). */
export function runTwilioCalls(
  group: { scenarios: Scenario[]; calls: ScheduledCall[]; turnTimeoutMs: number; progress: GroupProgress; histograms: Histograms; startedAt: number; scenarioSpeech: boolean },
  twilio: TwilioLine,
  hooks: Pick<CallHooks, 'timings' | 'conversation'>,
): Promise<CallResult[]> {
  const { scenarios, progress, histograms } = group;
  const record = turnRecorder(progress, histograms);
  return runScheduled(group.calls, group.startedAt, progress, (call) => runTwilioCall({
    twilio: twilio.emulator,
    webhookUrl: twilio.webhookUrl,
    scenario: scenarios[call.scenario]!,
    from: call.from,
    to: scenarioNumber(call.scenario),
    turnTimeoutMs: group.turnTimeoutMs,
    scenarioSpeech: group.scenarioSpeech,
  }, { ...hooks, turn: (sample) => record(withoutSpeechServices(sample)) }));
}

/**
 * The turn as the overhead histogram takes it: the model's share widened by the emulated speech
 * services' (Transcribe's endpointing, Polly's first byte), so that what remains of mouth to ear is
 * the runtime's own time (audio in and out, the call machine, the hops between the processes).
 */
function withoutSpeechServices(sample: AudioTurnSample): Parameters<CallHooks['turn']>[0] {
  const { speechServicesMs, ...turn } = sample;
  const modelShareMs = turn.timings?.modelShareMs;
  if (modelShareMs === undefined) return turn;
  return { ...turn, timings: { ...turn.timings!, modelShareMs: modelShareMs + speechServicesMs } };
}
