import { machineDiagram, type MachineDiagram } from '../../call/machine-edges.js';
import { withCallEffects, createCallMachine, type CallEffects, type CallPolicy } from '../../call/machine.js';
import type { CallContext, EndReason } from '../../call/context.js';
import type { CallerEvent, CallEvent } from '../../call/events.js';
import type { Logger } from '../../log.js';
import { maskPhone } from '../../log.js';
import type { CallSummary, ConversationStore } from '../../memory/store.js';
import { LOOPBACK_PRINCIPAL, type CallPeer, type CallsPort, type OpenOptions, type OpenResult, type StartRequest } from '../../protocol/calls-port.js';
import { PROTOCOL } from '../../protocol/frames.js';
import { epochMs } from '../../clock.js';
import type { CallObserver } from '../../records/observations.js';
import { dynamicSupervisor } from '../dynamic-supervisor.js';
import { admitNewCall, atCapacity, unknownAgent, type AdmissionRules, type Occupancy } from './admission.js';
import { startCallChild } from './call-child.js';
import { grantAllows, issueGrant, type OpenGrant } from './grants.js';
import { summarize } from './outcomes.js';
import { callRegistry, liveCall, type LiveCall } from './registry.js';
import { storedResume } from './resume.js';

export interface CallSupervisorOptions extends AdmissionRules {
  /** Look-ups the machine computes its context with. */
  policy: CallPolicy;
  /** The world the machine acts on: model, tools, memory writes, metrics, logs. */
  effects: CallEffects;
  store: ConversationStore;
  log: Logger;
  resumeGraceMs: number;
  /**
   * Before a resume of a call not live here starts it from memory: asks the other processes that
   * may hold it suspended (the other workers of `serve --workers`) to let go of it. False when one
   * still has its caller connected; the resume is then refused as `call_busy`.
   */
  releaseElsewhere?: (callId: string) => Promise<boolean>;
  /** Restarts allowed per call within `restartPeriodMs` before the call is ended with an apology. */
  restartIntensity: number;
  restartPeriodMs: number;
  onCallEnded?: (summary: CallSummary, context: CallContext | undefined) => void;
  onRestart?: () => void;
  /** A call let go of for another process to resume (`release`): it did not end, but is no longer this node's. */
  onCallReleased?: (callId: string) => void;
  /** Told when calls start and end, what they say and what the caller heard (call records, traces). */
  observe?: CallObserver;
}

export interface CallSupervisor extends CallsPort {
  active(): number;
  /**
   * Why a new call from `principal` would be refused now (the node or the key at its limit, the
   * event loop overloaded), or undefined. `reserved`: calls of the principal promised a place that
   * have not opened yet (a Twilio call answered whose stream has not started).
   */
  newCallRefusal(principal: string, reserved?: number): string | undefined;
  /** Sends `runtime.shutdown` to every call and waits for them to end, at most `timeoutMs`. */
  endAll(timeoutMs: number): Promise<void>;
  /** Resolves when no call is active, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
  /**
   * Lets go of a suspended call another process is resuming: stopped as for a service restart (its
   * grant stays open, so the resume continues from its last turn boundary). `busy` while its caller
   * is connected or a resume of it is under way here; `absent` when it is not live here.
   */
  release(callId: string): 'released' | 'busy' | 'absent';
  /** The states and transitions of the machine every call runs. */
  diagram(): MachineDiagram;
}

export const APOLOGY_ON_CRASH = "I'm sorry, something went wrong on our side and I have to end this call. Please call us back.";

/**
 * The dynamic supervisor of calls: one actor per call, restarted from its last turn-boundary
 * snapshot when it crashes. Each call is its own child id, so restart intensity counts per call and
 * one poisoned call never touches another; past it the call is ended with an apology.
 */
export function createCallSupervisor(options: CallSupervisorOptions): CallSupervisor {
  const { log, store } = options;
  const calls = callRegistry();
  const machine = withCallEffects(createCallMachine(options.policy), options.effects);
  const children = dynamicSupervisor<LiveCall>({
    intensity: options.restartIntensity,
    periodMs: options.restartPeriodMs,
    child: {
      start: (call) => startCallChild(machine, call, {
        boundary: (live, stored) => store.saveSnapshot(live.identity.callId, stored).catch((error: Error) =>
          log.warn({ event: 'call.snapshot_failed', callId: live.identity.callId, error: error.message })),
        ended: (live, context) => finish(live, context.endReason, context),
        observe: options.observe,
      }),
      restart: 'transient',
      shutdownMs: 1_000,
    },
  });

  children.on('restart', (callId, attempt, error) => {
    options.onRestart?.();
    log.warn({ event: 'call.restarted', callId, attempt, error: error.message });
  });
  children.on('giveUp', (callId, error) => {
    const call = calls.get(callId);
    log.error({ event: 'call.gave_up', callId, error: error.message });
    if (!call) return;
    call.actor = undefined;
    const turn = Math.max(1, call.snapshot?.turn ?? 1);
    call.peer?.send({ type: 'say', id: `s${call.sayCounter + 1}`, turn, text: APOLOGY_ON_CRASH, last: true });
    call.peer?.send({ type: 'hangup', reason: 'error' });
    finish(call, 'error');
  });

  /** `ended: false` only when the node stops the call under it (a service restart): the caller may resume it. */
  function finish(call: LiveCall, reason: EndReason | undefined, context?: CallContext, ended = true): void {
    if (call.finished) return;
    call.finished = true;
    const { callId } = call.identity;
    clearTimeout(call.suspendTimer);
    calls.remove(callId);
    call.peer?.end(1000, 'call ended');
    const summary = summarize(call.identity, context, reason);
    store.endCall(callId, summary).catch((error: Error) => log.warn({ event: 'call.summary_failed', callId, error: error.message }));
    if (ended) store.markEnded(callId).catch((error: Error) => log.warn({ event: 'call.end_mark_failed', callId, error: error.message }));
    options.onCallEnded?.(summary, context);
    options.observe?.(callId, { type: 'call.ended', at: summary.endedAt, outcome: summary.outcome, ...(reason ? { endReason: reason } : {}) });
    void children.terminateChild(callId);
  }

  /**
   * Call ids being started or resumed now, with the principal asking: one open per call id at a
   * time (single flight), and counted toward the limits before they are live.
   */
  const opening = new Map<string, { principal: string }>();

  function occupancy(principal: string): Occupancy {
    let total = calls.size();
    let byPrincipal = calls.countFor(principal);
    for (const [callId, claim] of opening) {
      if (calls.has(callId)) continue;
      total += 1;
      if (claim.principal === principal) byPrincipal += 1;
    }
    return { total, byPrincipal };
  }

  /** Runs `open` as the only open of `callId` now, or refuses at once with `call_busy`. */
  async function singleFlight(callId: string, principal: string, open: () => Promise<OpenResult>): Promise<OpenResult> {
    if (opening.has(callId)) return { ok: false, code: 'call_busy', message: `call "${callId}" is being started or resumed by another connection`, fatal: false };
    const claim = { principal };
    opening.set(callId, claim);
    try {
      return await open();
    } finally {
      if (opening.get(callId) === claim) opening.delete(callId);
    }
  }

  async function open(request: StartRequest, peer: CallPeer, principal: string, openOptions: OpenOptions = {}): Promise<OpenResult> {
    const refusal = unknownAgent(request, options);
    if (refusal) return refusal;
    if (request.resume && request.callId) return resume(request.callId, request, peer, principal);
    const admitted = admitNewCall(request, occupancy(principal), options);
    if ('ok' in admitted) return admitted;
    const { callId } = admitted;
    return singleFlight(callId, principal, async () => {
      const issued = issueGrant(principal, openOptions.resumeToken);
      if (calls.has(callId) || !(await store.claimCall(callId, issued.grant, { generatedId: request.callId === undefined }))) {
        return { ok: false, code: 'call_exists', message: `call id "${callId}" is or was in use; start a new call without callId or with an unused one`, fatal: false };
      }
      return begin(liveCall(admitted, issued.grant, undefined, peer), false, issued.token);
    });
  }

  /** The same answer whether the call never existed, ended, or belongs to another token or key. */
  function refusedResume(callId: string, principal: string): OpenResult {
    log.warn({ event: 'call.resume_refused', callId, keyHolder: principal === LOOPBACK_PRINCIPAL ? 'loopback' : 'api_key' });
    return { ok: false, code: 'unknown_call', message: `no call "${callId}" to resume with this resumeToken and key`, fatal: false };
  }

  async function resume(callId: string, request: StartRequest, peer: CallPeer, principal: string): Promise<OpenResult> {
    const live = calls.get(callId);
    if (live) return reattach(live, request, peer, principal);
    // Checked before the single flight is taken, so resumes without the token cannot hold it.
    const grant = await store.loadGrant(callId);
    if (!grantAllows(grant, request.resumeToken, principal)) return refusedResume(callId, principal);
    return singleFlight(callId, principal, async () => {
      const nowLive = calls.get(callId);
      if (nowLive) return reattach(nowLive, request, peer, principal);
      const full = atCapacity(occupancy(principal), options);
      if (full) return full;
      if (options.releaseElsewhere && !(await options.releaseElsewhere(callId))) {
        return { ok: false, code: 'call_busy', message: `call "${callId}" is still connected elsewhere`, fatal: false };
      }
      const point = await storedResume(callId, request, store);
      const identity = point.kind === 'snapshot' ? point.snapshot.identity : point.identity;
      const snapshot = point.kind === 'snapshot' ? point.snapshot : undefined;
      return begin(liveCall(identity, grant as OpenGrant, snapshot, peer), true, request.resumeToken!);
    });
  }

  /** A suspended call gets its caller back; its actor never stopped. */
  function reattach(call: LiveCall, request: StartRequest, peer: CallPeer, principal: string): OpenResult {
    const { callId } = call.identity;
    if (!grantAllows(call.grant, request.resumeToken, principal)) return refusedResume(callId, principal);
    if (call.peer || opening.has(callId)) return { ok: false, code: 'call_busy', message: `call "${callId}" is still connected elsewhere`, fatal: false };
    clearTimeout(call.suspendTimer);
    call.suspendTimer = undefined;
    call.peer = peer;
    peer.send({ type: 'ready', callId, protocol: PROTOCOL, resumed: true, resumeToken: request.resumeToken! });
    log.info({ event: 'call.resumed', callId, from: 'suspended' });
    return { ok: true, callId };
  }

  async function begin(call: LiveCall, resumed: boolean, resumeToken: string): Promise<OpenResult> {
    const { callId, agent, from, to, startedAt } = call.identity;
    calls.add(call);
    options.observe?.(callId, { type: 'call.started', at: startedAt, agent, from, to, resumed });
    try {
      await children.startChild(callId, call);
    } catch (error) {
      calls.remove(callId);
      throw error;
    }
    const actor = call.actor;
    if (!actor || call.finished) return { ok: false, code: 'internal', message: 'the call could not be started', fatal: true };
    if (actor.getSnapshot().value === 'connecting') await whenPrepared(call);
    if (call.finished) return { ok: false, code: 'internal', message: 'the call could not be started', fatal: true };
    call.peer?.send({ type: 'ready', callId, protocol: PROTOCOL, resumed, resumeToken });
    log.info({ event: resumed ? 'call.resumed' : 'call.started', callId, agent: call.identity.agent, from: maskPhone(call.identity.from) });
    return { ok: true, callId };
  }

  function deliver(callId: string, event: CallerEvent): void {
    const call = calls.get(callId);
    if (!call?.actor) return;
    if ((event.type === 'caller.transcript' && event.final) || event.type === 'caller.dtmf') call.sinceBoundary.push(event);
    call.actor.send(event);
    if (event.type === 'caller.played') options.observe?.(callId, { type: 'played', at: epochMs(), id: event.id });
  }

  function detach(callId: string, peer: CallPeer, reason: 'closed' | 'slow_consumer'): void {
    const call = calls.get(callId);
    if (!call || call.peer !== peer) return;
    call.peer = undefined;
    if (reason === 'slow_consumer') {
      call.actor?.send({ type: 'runtime.end', reason: 'slow_consumer' });
      return;
    }
    call.actor?.send({ type: 'runtime.connectionLost' });
    log.info({ event: 'call.suspended', callId, graceMs: options.resumeGraceMs });
    call.suspendTimer = setTimeout(() => call.actor?.send({ type: 'runtime.end', reason: 'dropped' }), options.resumeGraceMs);
    call.suspendTimer.unref();
  }

  return {
    open,
    deliver,
    detach,
    active: () => calls.size(),
    newCallRefusal: (principal, reserved = 0) => {
      const { total, byPrincipal } = occupancy(principal);
      return atCapacity({ total: total + reserved, byPrincipal: byPrincipal + reserved }, options)?.message ?? options.overload?.refusal();
    },
    release: (callId) => {
      const call = calls.get(callId);
      if (!call) return 'absent';
      if (call.peer || opening.has(callId)) return 'busy';
      // Not finish(): the call goes on elsewhere, so its snapshot, grant and summary stay the resumer's.
      call.finished = true;
      clearTimeout(call.suspendTimer);
      calls.remove(callId);
      void children.terminateChild(callId);
      options.onCallReleased?.(callId);
      log.info({ event: 'call.released', callId });
      return 'released';
    },
    diagram: () => machineDiagram(machine),
    idle: calls.idle,
    endAll: async (timeoutMs) => {
      for (const call of calls.all()) call.actor?.send({ type: 'runtime.shutdown' } satisfies CallEvent);
      await calls.idle(timeoutMs);
    },
    stop: async () => {
      for (const call of calls.all()) finish(call, 'shutdown', call.actor?.getSnapshot().context, false);
      await children.stop();
    },
  };
}

/** Resolves once the call's actor has left `connecting` (or crashed there). */
function whenPrepared(call: LiveCall): Promise<void> {
  const actor = call.actor;
  if (!actor) return Promise.resolve();
  return new Promise((resolve) => {
    const subscription = actor.subscribe({
      next: (state) => {
        if (state.value !== 'connecting') {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: () => resolve(),
    });
  });
}
