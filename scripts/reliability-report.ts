/**
 * `npm run reliability:report`: runs the protocol fuzzer, the fault matrix, the overload runs and the
 * attack runs of test/reliability in one process (the connection floods against a `serve` process of
 * their own) and prints the figures as Markdown tables (for the README).
 * AYBIZA_SOAK=1 raises the counts.
 */
import { runConnectionFlood } from '../test/reliability/connection-flood.js';
import { runBargeInLoop, runIdleCalls, runToolLoop, type BudgetRun } from '../test/reliability/budget-bypass.js';
import { runFaultMatrix, type FaultOutcome } from '../test/reliability/fault-matrix.js';
import { runIdleReaping } from '../test/reliability/idle-reaping.js';
import { runTakeoverAttempts } from '../test/reliability/takeover-attempts.js';
import { runToolPolicyAttempts } from '../test/reliability/tool-policy-attempts.js';
import { runKillUnderFullQueue } from '../test/reliability/full-queue-kill.js';
import { runPastMaxCalls, runSlowReader, runStartBurst } from '../test/reliability/overload.js';
import { runProtocolFuzz, startFuzzNode } from '../test/reliability/protocol-fuzz.js';
import { TEST_SEED } from '../test/support/test-seed.js';

const soak = process.env.AYBIZA_SOAK === '1';
const MB = 1024 * 1024;

function table(header: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    // A `|` inside a cell (even in code) would split it.
    ...rows.map((row) => `| ${row.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const seed = TEST_SEED;
  const fuzzNode = await startFuzzNode();
  const fuzz = await runProtocolFuzz(fuzzNode, { seed, frames: soak ? 100_000 : 10_000 }).finally(() => fuzzNode.close());
  const faults: FaultOutcome[] = await runFaultMatrix();
  const pastMax = await runPastMaxCalls({ maxCalls: 20, surplus: 10 });
  const attempts = soak ? 5_000 : 1_000;
  const burst = await runStartBurst({ maxCalls: Math.round(attempts * 0.6), attempts });
  const slow = await runSlowReader({ sendBufferBytes: 64 * 1024, maxFrames: 400_000 });
  const killed = await runKillUnderFullQueue({ calls: soak ? 2_000 : 300, maxQueue: 25 });
  const bargeIns = await runBargeInLoop({ attempts: 75, maxCostUsd: 0.05 });
  const toolCap = await runToolLoop({ maxToolRoundsPerTurn: 8 });
  const toolBudget = await runToolLoop({ maxCostUsd: 0.01, maxToolRoundsPerTurn: 1_000 });
  const idleCalls = await runIdleCalls({ silentCalls: soak ? 500 : 50, idleRepromptMs: 300, idleHangupMs: 900 });
  const usd = (value: number) => `$${value.toFixed(4)}`;
  const spentBeforeLast = (run: BudgetRun) => run.charges.slice(0, -1).reduce((sum, charge) => sum + charge.costUsd, 0);
  const takeover = await runTakeoverAttempts({ victims: soak ? 40 : 10 });
  const idleConnections = await runIdleReaping({ perKind: soak ? 200 : 50 });
  const idleOpened = idleConnections.reduce((sum, row) => sum + row.opened, 0);
  const idleReaped = idleConnections.reduce((sum, row) => sum + row.reaped, 0);
  const toolPolicy = await runToolPolicyAttempts({ perKind: soak ? 20 : 5 });
  const injected = toolPolicy.kinds.reduce((sum, row) => sum + row.attempted, 0);
  const outsidePolicy = toolPolicy.kinds.reduce((sum, row) => sum + row.executed, 0);
  const flood = await runConnectionFlood(soak
    ? { connections: 3_000, maxConnectionsPerAddress: 2_000, fragmentSockets: 300, maxAssemblyBytes: 64 * MB }
    : { connections: 300, maxConnectionsPerAddress: 200, fragmentSockets: 64, maxAssemblyBytes: 8 * MB });
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
  const answered = (during: { healthz: boolean; newCall: boolean }) => `/healthz ${during.healthz ? 'answered' : 'FAILED'}, new call ${during.newCall ? 'answered' : 'FAILED'}`;
  // Held fragments plus per-socket overhead; past twice the budget the bound is not what holds memory.
  const floodHeapGrowth = flood.fragments.during.heapAndBuffersBytes - flood.baseline.heapAndBuffersBytes;
  const floodFailed = [flood.tcp.during, flood.fragments.during].some((during) => !during.healthz || !during.newCall)
    || flood.tcp.accepted !== Math.min(flood.tcp.opened, flood.limits.maxConnectionsPerAddress)
    || flood.fragments.closed === 0 || flood.fragments.heldBytes > flood.limits.maxAssemblyBytes || floodHeapGrowth > 2 * flood.limits.maxAssemblyBytes;

  const heapGrowth = (fuzz.heapAfterBytes - fuzz.heapBaselineBytes) / MB;
  const lines = [
    `Reliability figures (${new Date().toISOString().slice(0, 10)}, node ${process.version}, fuzz seed ${seed}${soak ? ', soak' : ''})`,
    '',
    table(['run', 'sent / injected', 'crashes or silent calls', 'leaks or losses', 'notes'], [
      ['protocol fuzzing', `${fuzz.framesSent} frames`, fuzz.survived ? '0 crashes' : 'node stopped answering',
        `heap ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MB after GC (baseline ${(fuzz.heapBaselineBytes / MB).toFixed(0)} MB)`,
        `${fuzz.mismatches.length} frames answered other than documented; well-behaved call ${fuzz.wellBehavedTurns.completed}/${fuzz.wellBehavedTurns.asked} turns`],
      ['fault injection', `${faults.reduce((sum, row) => sum + row.injected, 0)} faults, ${faults.length} kinds, ${faults.reduce((sum, row) => sum + row.calls, 0)} calls`,
        `${faults.reduce((sum, row) => sum + row.silentCalls, 0)} silent calls`, `${faults.reduce((sum, row) => sum + row.itemsLost, 0)} stored items lost`,
        `${faults.filter((row) => row.ok).length}/${faults.length} faults with the documented caller experience`],
      ['overload: past maxCalls', `${pastMax.attempted} calls, maxCalls ${pastMax.maxCalls}`, `${pastMax.acceptedAndStarved} accepted-and-starved`,
        `${pastMax.unanswered} unanswered`, `${pastMax.refusedCleanly} refused cleanly (error overloaded, hangup, close)`],
      ['overload: simultaneous starts', `${burst.attempted} starts at once`, `${burst.acceptedAndStarved} accepted-and-starved`,
        `${burst.unanswered} unanswered`, `${burst.accepted} accepted, ${burst.refusedCleanly} refused cleanly; all answered in ${Math.round(burst.allAnsweredMs)} ms; first turns: ${burst.modelAnswered} by the model, ${burst.accepted - burst.modelAnswered - burst.acceptedAndStarved} canned`],
      ['overload: slow reader', `${slow.framesUntilCut} frames not read`, slow.slowCallEnded ? 'its call ended' : 'its call NOT ended',
        '-', `neighbour call ${slow.healthyTurns.completed}/${slow.healthyTurns.asked} turns`],
      ['SIGKILL under a full write-behind queue', `${killed.heard} turns heard, DynamoDB away, queue of 25`, '-',
        `${killed.heard - killed.stored} turns lost`, `${killed.recovered} journalled and recovered, ${killed.stored} stored after the restart`],
      ['budget: barge-in loop', `${bargeIns.requests} requests sent of 75 attempts, each aborted; maxCostUsd ${usd(0.05)}`, '-',
        `ledger ${usd(bargeIns.ledger.costUsd)}, ${bargeIns.ledger.inputTokens} input tokens charged for ${bargeIns.inputTokensSent} sent (tokenizer count)`,
        `hangup(${bargeIns.hangupReason}); ${usd(spentBeforeLast(bargeIns))} spent before the last request; longest caller text sent ${bargeIns.longestUserText} characters`],
      ['budget: model that always calls tools (cap)', `1 turn, maxToolRoundsPerTurn 8, no maxCostUsd`, '-', `${toolCap.requests} requests, ledger ${usd(toolCap.ledger.costUsd)}`,
        `turn ended with the canned answer (${toolCap.refusals.tool_rounds} tool_rounds refusal); call went on`],
      ['budget: model that always calls tools (budget)', `1 turn, maxCostUsd ${usd(0.01)}`, '-', `${toolBudget.requests} requests, ledger ${usd(toolBudget.ledger.costUsd)}`,
        `hangup(${toolBudget.hangupReason}); ${usd(spentBeforeLast(toolBudget))} spent before the last request`],
      ['idle calls reaped', `${idleCalls.silentCalls} silent calls and 1 talking; idleRepromptMs 300, idleHangupMs 900`, `${idleCalls.silentCalls - idleCalls.reaped} not reaped`,
        `${idleCalls.activeAfter} call active after (the talking one); aybiza_calls_ended_total{outcome="idle"} ${idleCalls.endedIdle}`,
        `each heard the reprompt, the goodbye, hangup(idle); slowest ${Math.round(idleCalls.slowestReapMs)} ms after ready; talking call ${idleCalls.talkingTurns} turns, ${idleCalls.talkingReprompted ? 'REPROMPTED' : 'never reprompted'}`],
      ['takeover attempts', `${takeover.attempts} resumes and starts aimed at ${takeover.victims} other callers' calls (no, wrong or another key's token; hung-up calls; reused ids)`,
        `${takeover.attempts - takeover.refused} taken over`, `${takeover.leaks} model requests of other connections carried the victim's PIN`,
        `${takeover.refused} refused (unknown_call / call_exists); ${takeover.ownersResumed} owners resumed their dropped call after`],
      ['idle connections reaped', `${idleOpened} idle connections, ${idleConnections.length} kinds`, `${idleOpened - idleReaped} held past 10 s`, '-',
        idleConnections.map((row) => `${row.kind}: ${row.reaped}/${row.opened} closed, slowest ${row.slowestMs} ms (${row.deadline})`).join('; ')],
      ['tool-policy refusals', `${injected} injected tool uses (${toolPolicy.kinds.map((row) => `${row.attempted} ${row.kind}`).join(', ')}); ${toolPolicy.badStarts.attempted} starts with free-text from/to`,
        '-', `${outsidePolicy} carried out outside policy`,
        `${toolPolicy.kinds.map((row) => `${row.tool}: ${row.refused}/${row.attempted} refused to the model, ${row.counted} counted`).join('; ')}; caller heard: ${[...new Set(toolPolicy.kinds.flatMap((row) => row.heard))].map((text) => `"${text}"`).join(' / ')}; `
        + `${toolPolicy.badStarts.refused}/${toolPolicy.badStarts.attempted} starts refused (bad_message); the caller's own record and address ${toolPolicy.ownActions.succeeded}/${toolPolicy.ownActions.attempted} allowed`],
      ['memory and descriptors under connection floods',
        `${flood.tcp.opened} idle TCP connections from one address (maxConnectionsPerAddress ${flood.limits.maxConnectionsPerAddress}, maxConnections ${flood.limits.maxConnections}); `
        + `${flood.fragments.sockets} sockets sending ${mb(flood.fragments.bytesSent)} of unfinished messages (maxAssemblyBytes ${mb(flood.limits.maxAssemblyBytes)})`,
        `TCP flood: ${answered(flood.tcp.during)}; fragment flood: ${answered(flood.fragments.during)}`,
        `serve descriptors ${flood.baseline.descriptors} before, ${flood.tcp.during.descriptors} during, ${flood.tcp.after.descriptors} after; heap + buffers after GC ${mb(flood.baseline.heapAndBuffersBytes)} before, `
        + `${mb(flood.fragments.during.heapAndBuffersBytes)} during the fragment flood, ${mb(flood.fragments.after.heapAndBuffersBytes)} after (RSS ${mb(flood.baseline.rssBytes)}, ${mb(flood.fragments.during.rssBytes)}, ${mb(flood.fragments.after.rssBytes)})`,
        `${flood.tcp.accepted} accepted, ${flood.tcp.refused} refused at accept; ${flood.fragments.closed} fragment senders closed past the budget, `
        + `${mb(flood.fragments.heldBytes)} held by the ${flood.fragments.sockets - flood.fragments.closed} left open`],
    ]),
    '',
    table(['fault', 'caller experiences', 'injected', 'calls', 'silent', 'items lost', 'as documented', 'metric that shows it'],
      faults.map((row) => [row.fault, row.callerExperience, row.injected, row.calls, row.silentCalls, row.itemsLost, row.ok ? 'yes' : `NO (heard: ${row.heard.join(' / ')})`, `\`${row.metric}\``])),
  ];
  if (fuzz.mismatches.length > 0) lines.push('', 'First mismatches:', ...fuzz.mismatches.slice(0, 10).map((m) => `- ${m.kind}: expected ${m.expected}, got ${m.got}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  const failed = !fuzz.survived || fuzz.mismatches.length > 0 || faults.some((row) => !row.ok || row.silentCalls > 0 || row.itemsLost > 0)
    || pastMax.acceptedAndStarved + burst.acceptedAndStarved + pastMax.unanswered + burst.unanswered > 0 || !slow.slowCallEnded || killed.stored < killed.heard
    || bargeIns.hangupReason !== 'budget' || bargeIns.ledger.inputTokens < bargeIns.inputTokensSent || spentBeforeLast(bargeIns) >= 0.05
    || toolCap.refusals.tool_rounds !== 1 || toolBudget.hangupReason !== 'budget' || spentBeforeLast(toolBudget) >= 0.01
    || idleCalls.reaped !== idleCalls.silentCalls || idleCalls.talkingReprompted
    || takeover.refused < takeover.attempts || takeover.leaks > 0 || idleReaped < idleOpened
    || outsidePolicy > 0 || toolPolicy.kinds.some((row) => row.refused < row.attempted || row.counted !== row.attempted)
    || toolPolicy.badStarts.refused < toolPolicy.badStarts.attempted || toolPolicy.ownActions.succeeded < toolPolicy.ownActions.attempted
    || floodFailed;
  process.exitCode = failed ? 1 : 0;
}

main().then(() => process.exit(), (error: Error) => {
  process.stderr.write(`reliability report failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
