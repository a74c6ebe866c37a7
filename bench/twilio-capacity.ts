import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { LoadReport } from '../src/load/report.js';
import { loadScenarioFile, type Scenario } from '../src/load/scenario.js';
import { scenarioAgents, scenarioTools } from '../src/load/scenario-agents.js';
import { scenarioFiles } from '../src/load/scenario-files.js';
import { scenarioNumbers } from '../src/load/twilio-line.js';
import { benchCli, endRun, freePort, launch, launchAfter, nodeArgs, rssKb } from './child-processes.js';
import { writeRunScenarios } from './held-scenarios.js';

/**
 * `CAPACITY_TRANSPORT=twilio npx tsx bench/capacity.ts [N...]`: how many Twilio audio calls `serve`
 * holds at once with 0 failures. Four processes: the emulators (`aybiza emulator`: Bedrock,
 * Transcribe and Polly, each on its own port), serve (`twilio.enabled`, speech from those
 * emulators), and `aybiza load --transport twilio --url`, whose emulated Twilio signs and posts
 * the webhooks, runs the TwiML, and streams each caller's emulated speech as 20 ms µ-law frames in
 * real time (phone pacing: a caller talks and listens at the speed of the audio). Every call opens,
 * stays silent on the line until all N are open (held at once), then plays its scenario.
 *
 *   CAPACITY_SCENARIOS=a.json,b.json   scenario files (default: every file in scenarios/)
 *   CAPACITY_OPEN_RATE=50              calls dialled per second
 *   CAPACITY_CPU_PROF=DIR              serve's CPU profile, written when it exits
 *   CAPACITY_LOAD_CPU_PROF=DIR         the load process's CPU profile (emulated Twilio and callers)
 *   BENCH_SERVE_CLI=dist/src/cli.js    the compiled build (npm run build) for every child, instead of tsx
 *   AYBIZA_CONFIG=FILE                 extra serve configuration merged under the generated one
 *   AYBIZA_WORKERS=2                   serve --workers 2 (serve's CPU is its whole process tree)
 */
const cli = benchCli;
const scenarioDir = new URL('../scenarios/', import.meta.url).pathname;
const ACCOUNT_SID = `AC${'c'.repeat(32)}`;
const AUTH_TOKEN = 'capacity-bench-auth-token-012345';
/** What serve is told it is reached at; the load's emulated Twilio sends it to serve's own port. */
const PUBLIC_URL = 'https://voice.capacity.test';

/** What bench/capacity.ts's sampler gives (passed in, so that the two modules do not import each other). */
export interface ServeSampler {
  stop(): Promise<void>;
  peakActive(): number;
  callSeconds(): number;
  /** Calls serve turned away: webhooks answered <Reject reason="busy"/> (twilio_busy). */
  refused(): number;
  peakRssBytes(): number;
  worstLagP99Ms(): number;
  cpuMs(): number[];
}

export interface SamplerTools {
  startSampler(metricsUrl: string, pids: number[]): ServeSampler;
  childrenOf(pid: number): number[];
}

export interface TwilioCapacityRow {
  calls: number;
  heldPeak: number;
  failed: number;
  /** Of the failed: calls serve rejected as busy from the webhook, at its limit or with its event loop late. */
  refused: number;
  turns: number;
  /** From the caller's last audio frame to the first frame of the answer. */
  mouthToEarP50: number;
  mouthToEarP99: number;
  /** Mouth to ear less the emulated services' own time (see `run`'s header line). */
  overheadP50: number;
  overheadP99: number;
  serveCpuMsPerCallSecond: number;
  /** The load process (emulated Twilio and callers, one thread): what a run of N calls needs besides serve. */
  loadCpuMsPerCallSecond: number;
  serveRssKbPerCall: number;
  servePeakRssMb: number;
  lagP99Ms: number;
  serveCpuPercent: number;
  emulatorCpuPercent: number;
  loadCpuPercent: number;
  dynamoCpuPercent: number;
  /** `uptime`'s 1-minute load average before and after the run (other work on the machine shows here). */
  loadAverageBefore: number;
  loadAverageAfter: number;
  firstFailures: string[];
}

export async function runTwilio(counts: number[] = [50, 100, 200], tools: SamplerTools): Promise<void> {
  process.stdout.write([
    'held = peak of serve\'s aybiza_calls_active; m2e = mouth to ear, the caller\'s last audio frame to the answer\'s first frame;',
    'overhead = m2e less, per turn, Transcribe\'s endpointing still to come after that frame (600 ms after the last voiced sample, less',
    'the closing silence already sent; 0 for a key press) and the model\'s time to the end of its first sentence (Bedrock emulator\'s',
    'request log); the emulated Polly has no first-byte delay, so 0 is subtracted for it. CPU in % of one core over the run, serve\'s with its children (dynalite, workers);',
    'RSS/call = (serve\'s peak RSS - its RSS before the first call) / held; lag* = serve event-loop lag p99, worst 1 s window, its 10 ms',
    'timer period included; load avg = /proc/loadavg 1-minute, before -> after (other helpers share the 2 cores)\n',
  ].join('\n'));
  process.stdout.write('calls   held  failed (refused)   turns   m2e p50/p99 ms   overhead p50/p99 ms   serve ms CPU/call-s  load ms CPU/call-s   RSS/call   serve RSS   lag p99*  serve CPU  emulator CPU  load CPU  dynalite CPU   load avg\n');
  for (const count of counts) {
    const row = await measureTwilio(count, tools);
    process.stdout.write(
      `${String(row.calls).padStart(5)}  ${String(row.heldPeak).padStart(5)}  ${String(row.failed).padStart(6)} ${`(${row.refused})`.padStart(9)}  ${String(row.turns).padStart(6)}  `
      + `${row.mouthToEarP50.toFixed(0).padStart(7)} / ${row.mouthToEarP99.toFixed(0).padStart(5)}   ${row.overheadP50.toFixed(0).padStart(9)} / ${row.overheadP99.toFixed(0).padStart(5)}   `
      + `${row.serveCpuMsPerCallSecond.toFixed(1).padStart(19)}  ${row.loadCpuMsPerCallSecond.toFixed(1).padStart(18)}   ${String(row.serveRssKbPerCall).padStart(5)} KB  ${String(row.servePeakRssMb).padStart(6)} MB  ${row.lagP99Ms.toFixed(0).padStart(5)} ms  `
      + `${row.serveCpuPercent.toFixed(0).padStart(8)}%  ${row.emulatorCpuPercent.toFixed(0).padStart(11)}%  ${row.loadCpuPercent.toFixed(0).padStart(7)}%  ${row.dynamoCpuPercent.toFixed(0).padStart(11)}%  `
      + `${row.loadAverageBefore.toFixed(2)} -> ${row.loadAverageAfter.toFixed(2)}\n`,
    );
    for (const failure of row.firstFailures) process.stdout.write(`        ${failure}\n`);
  }
}

/** One run at `count` calls: fresh emulators, serve and load process. */
export async function measureTwilio(count: number, tools: SamplerTools): Promise<TwilioCapacityRow> {
  const openRate = Number(process.env.CAPACITY_OPEN_RATE ?? 50);
  const files = (process.env.CAPACITY_SCENARIOS?.split(',') ?? scenarioFiles(scenarioDir)).filter(Boolean);
  const scenarios = files.map(loadScenarioFile);
  const rampS = Math.max(5, count / openRate);
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-twilio-capacity-'));
  // Silent on the line (Twilio still streams its silence) until every call of the run is open.
  const { dir: heldDir, files: heldFiles } = writeRunScenarios(scenarios, dir, Math.round(rampS * 1000) + 2_000);
  const loadAverageBefore = loadAverage();
  // serve's config names the load's emulated Twilio REST API before the load starts it.
  const twilioPort = await freePort();
  const emulator = await launch([
    cli, 'emulator', '--port', '0', '--transcribe-port', '0', '--polly-port', '0', '--transcribe-max-streams', String(count * 2 + 100),
    '--scenarios', heldDir, '--request-log-size', '60000',
  ], {});
  writeFileSync(join(dir, 'serve.json'), JSON.stringify(serveConfig(scenarios, count, dir, twilioPort, emulator.ready)));
  const profile = process.env.CAPACITY_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CAPACITY_CPU_PROF] : [];
  const server = await launchAfter([emulator.process], [...profile, cli, 'serve', '--port', '0', '--metrics-port', '0', '--config', join(dir, 'serve.json')], {
    AYBIZA_BEDROCK_MODE: 'emulator',
    AYBIZA_BEDROCK_ENDPOINT: emulator.ready.url as string,
  });
  const serveRssBeforeKb = rssKb(server.process.pid!);
  const loadProfile = process.env.CAPACITY_LOAD_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CAPACITY_LOAD_CPU_PROF] : [];
  const load = spawn(process.execPath, nodeArgs([
    ...loadProfile, cli, 'load', ...heldFiles, '--calls', String(count), '--ramp', String(rampS), '--transport', 'twilio',
    '--url', server.ready.telephony as string, '--public-url', PUBLIC_URL, '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN,
    '--twilio-port', String(twilioPort), '--emulator', emulator.ready.url as string, '--report', join(dir, 'report.json'), '--turn-timeout-ms', '30000',
  ]), { stdio: ['ignore', 'ignore', 'pipe'] });
  // Its progress lines go nowhere; the last of its stderr explains an exit that is not a verdict.
  let loadStderr = '';
  load.stderr!.on('data', (chunk: Buffer) => (loadStderr = (loadStderr + chunk.toString()).slice(-2_000)));
  const loadExited = new Promise<number | null>((resolve) => load.once('exit', resolve));
  // Serve's children: the embedded DynamoDB (dynalite) and, with AYBIZA_WORKERS, its workers; serve's CPU is the sum over all of them.
  const serveChildren = tools.childrenOf(server.process.pid!);
  const dynalite = serveChildren.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dynalite-process'));
  const sampler = tools.startSampler(server.ready.metrics as string, [server.process.pid!, emulator.process.pid!, load.pid!, ...serveChildren]);
  const startedAt = performance.now();
  let report: LoadReport;
  try {
    const status = await loadExited;
    if (status !== 0 && status !== 1) throw new Error(`aybiza load exited with ${status}: ${loadStderr.trim().split('\n').at(-1)}`);
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as LoadReport;
  } finally {
    await endRun({ sampler, server: server.process, emulator: emulator.process, dir });
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const [primaryCpuMs, emulatorCpuMs, loadCpuMs, ...childCpuMs] = sampler.cpuMs();
  const serveCpuMs = primaryCpuMs! + childCpuMs.reduce((sum, ms) => sum + ms, 0);
  const dynamoCpuMs = childCpuMs.filter((_, index) => dynalite[index]).reduce((sum, ms) => sum + ms, 0);
  const percent = (ms: number) => (100 * ms) / (seconds * 1000);
  return {
    calls: count,
    heldPeak: sampler.peakActive(),
    failed: report.calls.failed,
    refused: sampler.refused(),
    turns: report.turns,
    mouthToEarP50: report.latencyMs.turn.p50,
    mouthToEarP99: report.latencyMs.turn.p99,
    overheadP50: report.overheadMs.p50,
    overheadP99: report.overheadMs.p99,
    serveCpuMsPerCallSecond: serveCpuMs / Math.max(1, sampler.callSeconds()),
    loadCpuMsPerCallSecond: loadCpuMs! / Math.max(1, sampler.callSeconds()),
    serveRssKbPerCall: Math.round((sampler.peakRssBytes() / 1024 - serveRssBeforeKb) / Math.max(1, sampler.peakActive())),
    servePeakRssMb: Math.round(sampler.peakRssBytes() / 1_048_576),
    lagP99Ms: sampler.worstLagP99Ms(),
    serveCpuPercent: percent(serveCpuMs),
    emulatorCpuPercent: percent(emulatorCpuMs!),
    loadCpuPercent: percent(loadCpuMs!),
    dynamoCpuPercent: percent(dynamoCpuMs),
    loadAverageBefore,
    loadAverageAfter: loadAverage(),
    firstFailures: report.failures.slice(0, 3).map((failure) => `${failure.callId} step ${failure.step}: ${failure.reason}`),
  };
}

/**
 * Serve for the run: Twilio on (the load's emulated Twilio signs with this account, its REST API
 * on `twilioPort`), speech from the separate emulator, each scenario's number ringing its agent,
 * the agents' idle reprompt off (the callers are silent while the run's calls open), quiet logs,
 * room for every call, a memory namespace of its own.
 */
function serveConfig(scenarios: Scenario[], count: number, dir: string, twilioPort: number, emulator: Record<string, unknown>): Record<string, unknown> {
  const extra = process.env.AYBIZA_CONFIG ? JSON.parse(readFileSync(process.env.AYBIZA_CONFIG, 'utf8')) as Record<string, Record<string, unknown>> : {};
  const agents = Object.fromEntries(Object.entries(scenarioAgents(scenarios, loadConfig({ env: {} }).agents.default!))
    .map(([name, agent]) => [name, { ...(agent as Record<string, unknown>), idleRepromptMs: 0, idleHangupMs: 0 }]));
  return {
    ...extra,
    server: { ...extra.server, maxCalls: count * 2 + 100, backlog: 4_096 },
    memory: { ...extra.memory, dataDir: join(dir, 'data'), keyPrefix: `aybiza-twilio-capacity-${Date.now().toString(36)}:` },
    agents,
    tools: scenarioTools(scenarios),
    speech: { ...extra.speech, mode: 'emulator', transcribeEndpoint: emulator.transcribeUrl, pollyEndpoint: emulator.pollyUrl },
    twilio: {
      enabled: true, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL, apiBaseUrl: `http://127.0.0.1:${twilioPort}`, ...scenarioNumbers(scenarios),
    },
    log: { level: 'warn' },
  };
}

const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
