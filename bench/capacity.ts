import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { choiceFlag } from '../src/cli/flags.js';
import { ARRIVALS, type Arrivals } from '../src/load/arrivals.js';
import { PACES, type Pace } from '../src/load/pacing.js';
import type { LoadReport } from '../src/load/report.js';
import { runLoad } from '../src/load/runner.js';
import { loadScenarioFile, type Scenario } from '../src/load/scenario.js';
import { scenarioAgents, scenarioTools } from '../src/load/scenario-agents.js';
import { scenarioFiles } from '../src/load/scenario-files.js';
import { benchCli, cpuMs, endRun, launch, launchAfter } from './child-processes.js';
import { writeRunScenarios } from './held-scenarios.js';
import { runTwilio } from './twilio-capacity.js';

/**
 * How many calls `serve` holds at once on this machine with 0 failures, the callers at phone pace
 * (src/load/pacing.ts: words at ~150 a minute, answers heard at ~165, a turn every 8–12 s). Serve,
 * the Bedrock emulator (each scenario's TTFT and tokens per second) and the load runner (clients on
 * worker threads) are three processes. Every call opens, waits while the other calls of the run
 * open (so all N are held at once), then plays its scenario: turns start at the rate calls were
 * opened and go on at the scenario's pauses and the pace's speaking and playback.
 *
 *   npx tsx bench/capacity.ts [N...]          (default 1000 5000 10000)
 *   CAPACITY_SCENARIOS=a.json,b.json          scenario files (default: every file in scenarios/)
 *   CAPACITY_PACE=phone                       phone, or fast (words at once, answers heard at 60 ms a word: stress)
 *   CAPACITY_OPEN_RATE=250                    calls opened per second
 *   CAPACITY_HOLD=0                           arrivals instead: each call plays its scenario as soon as it is
 *                                             open, as calls reach a line (shows refusals under overload); calls
 *                                             last as long as their conversation, so held ≈ rate × call length
 *   CAPACITY_ARRIVALS=poisson                 poisson (the default with CAPACITY_HOLD=0: exponential gaps, seeded)
 *                                             or uniform (the default when holding: an even ramp of opens)
 *   CAPACITY_WORKERS=2                        client worker threads
 *   CAPACITY_CPU_PROF=DIR                     serve's CPU profile, written when it exits
 *   BENCH_SERVE_CLI=dist/src/cli.js           the compiled build (npm run build) for every child, instead of tsx
 *   CAPACITY_SERVE_WORKERS=1,2                serve --workers counts, each N measured with each, side by side
 *   AYBIZA_CONFIG=FILE                        extra serve configuration merged under the generated one
 */
const cli = benchCli;
const scenarioDir = new URL('../scenarios/', import.meta.url).pathname;
/** monitorEventLoopDelay (prom-client, resolution 10 ms) reports the timer period plus the lag. */
const LAG_RESOLUTION_MS = 10;

export interface CapacityRow {
  calls: number;
  heldPeak: number;
  /** Mean of the calls' length, dialling to hangup (the hold included when holding). */
  callLengthS: number;
  arrivalRatePerS: number;
  /** Little's law: the calls held at once in a steady state, arrival rate × mean call length; undefined when holding (all are, by construction). */
  rateTimesLength: number | undefined;
  failed: number;
  /** Of the failed: calls serve refused with `overloaded`, or rejected as busy on Twilio (maxCalls or a saturated event loop). */
  refused: number;
  turns: number;
  turnsPerSecond: number;
  turnP50: number;
  turnP99: number;
  overheadP99: number;
  lagP99Ms: number;
  serveRssMb: number;
  serveCpuPercent: number;
  serveCpuMsPerTurn: number;
  /** Both cores, every process on the machine (other work included): how contended the run was. */
  machineBusyPercent: number;
  emulatorCpuPercent: number;
  /** The embedded dynalite, a child of serve (counted in serve's CPU too). */
  dynamoCpuPercent: number;
  clientCpuPercent: number;
  firstFailures: string[];
}

export async function run(counts = [1_000, 5_000, 10_000]): Promise<void> {
  const settings = runSettings();
  process.stdout.write(`pace ${settings.pace}, ${settings.arrivals} arrivals, ${settings.hold ? 'every call held until all are open' : 'each call plays as soon as it is open'}\n`);
  process.stdout.write('held = peak of serve\'s aybiza_calls_active; rate = calls opened per second (CAPACITY_OPEN_RATE, over 5 s at least); rate×len = rate × mean call length (arrivals mode; when holding, every call is held); lag = serve event-loop lag p99 (worst 1 s window, timer period removed); CPU in % of one core over the run, serve\'s with its child processes (dynalite, --workers); machine busy = both cores, all processes\n');
  process.stdout.write('calls  rate/s   held  rate×len  call s  failed (refused)   turns/s  turn p50/p99 ms      overhead p99  lag p99   serve RSS  serve CPU  dynalite CPU  emulator CPU  clients CPU  serve ms/turn  machine busy\n');
  const serveWorkers = (process.env.CAPACITY_SERVE_WORKERS ?? '1').split(',').map(Number);
  for (const count of counts) for (const workers of serveWorkers) {
    if (serveWorkers.length > 1) process.stdout.write(`serve --workers ${workers}\n`);
    const row = await measure(count, workers).catch((error: Error) => {
      // The run's callers are still out there: no later row would be measured alone.
      process.stdout.write(`${String(count).padStart(5)}  ${error.message}; the bench stops here\n`);
      process.exit(1);
    });
    process.stdout.write(
      `${String(row.calls).padStart(5)}  ${row.arrivalRatePerS.toFixed(0).padStart(6)}  ${String(row.heldPeak).padStart(5)}  ${(row.rateTimesLength?.toFixed(0) ?? '—').padStart(8)}  ${row.callLengthS.toFixed(1).padStart(6)}  ${String(row.failed).padStart(6)} ${`(${row.refused})`.padStart(9)}  ${row.turnsPerSecond.toFixed(0).padStart(8)}  `
      + `${row.turnP50.toFixed(0).padStart(7)} / ${row.turnP99.toFixed(0).padStart(6)}   ${row.overheadP99.toFixed(0).padStart(8)} ms  ${row.lagP99Ms.toFixed(0).padStart(5)} ms  `
      + `${String(row.serveRssMb).padStart(6)} MB  ${row.serveCpuPercent.toFixed(0).padStart(7)}%  ${row.dynamoCpuPercent.toFixed(0).padStart(10)}%  ${row.emulatorCpuPercent.toFixed(0).padStart(10)}%  ${row.clientCpuPercent.toFixed(0).padStart(9)}%  ${row.serveCpuMsPerTurn.toFixed(1).padStart(10)} ms  ${row.machineBusyPercent.toFixed(0).padStart(10)}%\n`,
    );
    for (const failure of row.firstFailures) process.stdout.write(`        ${failure}\n`);
  }
}

/** The run's settings from the environment; a value out of its set stops the bench, naming the variable. */
function runSettings(): { pace: Pace; arrivals: Arrivals; hold: boolean; openRate: number; workers: number } {
  const hold = process.env.CAPACITY_HOLD !== '0';
  return {
    pace: choiceFlag('CAPACITY_PACE', process.env.CAPACITY_PACE, PACES, 'phone'),
    arrivals: choiceFlag('CAPACITY_ARRIVALS', process.env.CAPACITY_ARRIVALS, ARRIVALS, hold ? 'uniform' : 'poisson'),
    hold,
    openRate: Number(process.env.CAPACITY_OPEN_RATE ?? 250),
    workers: Number(process.env.CAPACITY_WORKERS ?? 2),
  };
}

/** One run at `count` calls: fresh emulator and serve, clients here on worker threads. */
export async function measure(count: number, serveWorkers = 1): Promise<CapacityRow> {
  const { pace, arrivals, hold, openRate, workers } = runSettings();
  const files = (process.env.CAPACITY_SCENARIOS?.split(',') ?? scenarioFiles(scenarioDir)).filter(Boolean);
  const scenarios = files.map(loadScenarioFile);
  const rampS = Math.max(5, count / openRate);
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-capacity-'));
  const { dir: heldDir, files: heldFiles } = writeRunScenarios(scenarios, dir, hold ? Math.round(rampS * 1000) + 2_000 : undefined);
  writeFileSync(join(dir, 'serve.json'), JSON.stringify(serveConfig(scenarios, count, dir)));

  // A request log big enough for every request of the run: the runner reads each call's timings from it.
  const emulator = await launch([cli, 'emulator', '--port', '0', '--scenarios', heldDir, '--request-log-size', '60000'], {});
  const profile = process.env.CAPACITY_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CAPACITY_CPU_PROF] : [];
  const server = await launchAfter([emulator.process], [...profile, cli, 'serve', '--port', '0', '--metrics-port', '0', '--workers', String(serveWorkers), '--config', join(dir, 'serve.json')], {
    AYBIZA_BEDROCK_MODE: 'emulator',
    AYBIZA_BEDROCK_ENDPOINT: emulator.ready.url as string,
  });
  // A serve that dies mid-run (at 5,000 phone-paced calls it once aborted in glibc's allocator) ends
  // the run with its cause; the callers would otherwise wait out their turn timeouts and resumes.
  const serveDied = new Promise<never>((_resolve, reject) => server.process.once('exit', (code, signal) =>
    reject(new Error(`serve exited (${signal ?? `code ${code}`}) during the ${count}-call run`))));
  serveDied.catch(() => undefined);
  // Serve's children: the embedded DynamoDB (dynalite) when memory.durable is `embedded`, and the
  // workers of `--workers`. Serve's CPU is the sum over all of them: work moved to a child is no saving.
  const servePids = [server.process.pid!, ...childrenOf(server.process.pid!)];
  const dynalite = servePids.map((pid) => safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dynalite-process'), false));
  const sampler = startSampler(server.ready.metrics as string, [...servePids, emulator.process.pid!]);
  const clientCpuBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  const startedAt = performance.now();
  let report: LoadReport;
  try {
    report = await Promise.race([serveDied, runLoad({
      files: heldFiles,
      calls: count,
      rampSeconds: rampS,
      arrivals,
      url: server.ready.telephony as string,
      emulatorUrl: emulator.ready.url as string,
      seed: 1,
      workers,
      pace,
      turnTimeoutMs: 30_000,
    })]);
  } finally {
    await endRun({ sampler, server: server.process, emulator: emulator.process, dir });
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const machine = machineCpuMs();
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const cpu = sampler.cpuMs();
  const serveCpuMs = cpu.slice(0, servePids.length).reduce((sum, ms) => sum + ms, 0);
  const emulatorCpuMs = cpu.at(-1);
  const dynamoCpuMs = cpu.filter((_, index) => dynalite[index]).reduce((sum, ms) => sum + ms, 0);
  return {
    calls: count,
    heldPeak: sampler.peakActive(),
    callLengthS: report.callLengthS.mean,
    arrivalRatePerS: count / rampS,
    rateTimesLength: hold ? undefined : (count / rampS) * report.callLengthS.mean,
    failed: report.calls.failed,
    refused: sampler.refused(),
    turns: report.turns,
    // Held calls take turns only after the hold: from the first call's first turn to the end of the run.
    turnsPerSecond: report.turns / Math.max(1, hold ? seconds - rampS - 2 : seconds),
    turnP50: report.latencyMs.turn.p50,
    turnP99: report.latencyMs.turn.p99,
    overheadP99: report.overheadMs.p99,
    lagP99Ms: Math.max(0, sampler.worstLagP99Ms() - LAG_RESOLUTION_MS),
    serveRssMb: Math.round(sampler.peakRssBytes() / 1_048_576),
    serveCpuPercent: (100 * serveCpuMs) / (seconds * 1000),
    serveCpuMsPerTurn: serveCpuMs / Math.max(1, report.turns),
    machineBusyPercent: (100 * (machine.busy - machineBefore.busy)) / Math.max(1, machine.total - machineBefore.total),
    emulatorCpuPercent: (100 * emulatorCpuMs!) / (seconds * 1000),
    dynamoCpuPercent: (100 * dynamoCpuMs) / (seconds * 1000),
    clientCpuPercent: (100 * (clientCpu.user + clientCpu.system)) / 1000 / (seconds * 1000),
    firstFailures: report.failures.slice(0, 3).map((failure) => `${failure.callId} step ${failure.step}: ${failure.reason}`),
  };
}

/** The agents of the scenarios on embedded defaults, quiet logs, room for every call, a memory namespace of its own. */
function serveConfig(scenarios: Scenario[], count: number, dir: string): Record<string, unknown> {
  const extra = process.env.AYBIZA_CONFIG ? JSON.parse(readFileSync(process.env.AYBIZA_CONFIG, 'utf8')) as Record<string, Record<string, unknown>> : {};
  const agents = scenarioAgents(scenarios, loadConfig({ env: {} }).agents.default!);
  return {
    ...extra,
    server: { ...extra.server, maxCalls: count * 2 + 100, backlog: 4_096 },
    memory: { ...extra.memory, dataDir: join(dir, 'data'), keyPrefix: `aybiza-capacity-${Date.now().toString(36)}:` },
    agents,
    // The tool-backend scenarios name knowledge bases, MCP servers and connectors the node must have.
    tools: { ...extra.tools, ...scenarioTools(scenarios) },
    log: { level: 'warn' },
  };
}

interface Sampler {
  stop(): Promise<void>;
  peakActive(): number;
  /** The active calls integrated over the scrapes: call-seconds, for CPU per call-second. */
  callSeconds(): number;
  refused(): number;
  worstLagP99Ms(): number;
  peakRssBytes(): number;
  cpuMs(): number[];
}

/** Scrapes serve's /metrics and reads process CPU once a second. */
function startSampler(metricsUrl: string, pids: number[]): Sampler {
  let active = 0;
  let refused = 0;
  let lag = 0;
  let rss = 0;
  let callSeconds = 0;
  let scrapedAt = performance.now();
  const cpuStart = pids.map(cpuMs);
  let cpuLast = cpuStart;
  let scraping: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    cpuLast = pids.map((pid, index) => safe(() => cpuMs(pid), cpuLast[index]!));
    scraping = scraping.then(async () => {
      try {
        const text = await (await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
        const now = performance.now();
        callSeconds += (gauge(text, 'aybiza_calls_active') * (now - scrapedAt)) / 1000;
        scrapedAt = now;
        active = Math.max(active, gauge(text, 'aybiza_calls_active'));
        // `overloaded`: an aybiza.v1 start refused; `twilio_busy`: a Twilio webhook answered <Reject reason="busy"/>.
        refused = Math.max(refused, gauge(text, 'aybiza_protocol_errors_total{code="overloaded"}') + gauge(text, 'aybiza_protocol_errors_total{code="twilio_busy"}'));
        lag = Math.max(lag, 1000 * gauge(text, 'nodejs_eventloop_lag_p99_seconds'));
        rss = Math.max(rss, gauge(text, 'process_resident_memory_bytes'));
      } catch {
        // A scrape that times out under load is a sample lost, not a failed run.
      }
    });
  }, 1_000);
  return {
    stop: async () => {
      clearInterval(timer);
      await scraping;
    },
    peakActive: () => active,
    callSeconds: () => callSeconds,
    refused: () => refused,
    worstLagP99Ms: () => lag,
    peakRssBytes: () => rss,
    cpuMs: () => cpuLast.map((value, index) => value - cpuStart[index]!),
  };
}

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `) || entry.startsWith(`${name}{`));
  return Number(line?.split(' ').at(-1) ?? 0) || 0;
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** CPU time of the whole machine from /proc/stat: busy (all but idle and iowait) and total. */
function machineCpuMs(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - fields[3]! - fields[4]!, total };
}

/** Child process ids of a process, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    safe(() => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8'), '').split(' ').filter(Boolean).map(Number));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
  if (process.env.CAPACITY_TRANSPORT === 'twilio') await runTwilio(counts.length ? counts : undefined, { startSampler, childrenOf });
  else await run(counts.length ? counts : undefined);
}
