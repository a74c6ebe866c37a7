import { randomUUID } from 'node:crypto';
import { createActor, type Actor, type Snapshot } from 'xstate';
import { createCallMachine, type CallEffects, type CallMachine } from '../call/machine.js';
import type { CallContext, CallInput } from '../call/context.js';
import type { CallerEvent, CallEvent } from '../call/events.js';
import type { Logger } from '../log.js';
import { maskPhone } from '../log.js';
import type { CallSummary, ConversationStore } from '../memory/store.js';
import type { CallPeer, CallsPort, OpenResult, StartRequest } from '../telephony/connection.js';
import type { OverloadGuard } from './overload-guard.js';
import { PROTOCOL, type OutboundFrame } from '../telephony/frames.js';
import { dynamicSupervisor, type ChildHandle, type ExitReason } from './supervisor.js';

export interface CallSupervisorOptions {
  effects: Omit<CallEffects, 'send'>;
  store: ConversationStore;
  log: Logger;
  knownAgents: ReadonlySet<string>;
  maxCalls: number;
  /** Asked before each new call (not a resumed one: that caller is already in a conversation). */
  overload?: OverloadGuard;
  resumeGraceMs: number;
  /** Restarts allowed per call within `restartPeriodMs` before the call is ended with an apology. */
  restartIntensity: number;
  restartPeriodMs: number;
  onCallEnded?: (summary: CallSummary, context: CallContext | undefined) => void;
  onRestart?: () => void;
}

export interface CallSupervisor extends CallsPort {
  active(): number;
  /** Sends `runtime.shutdown` to every call and waits for them to end, at most `timeoutMs`. */
  endAll(timeoutMs: number): Promise<void>;
  /** Resolves when no call is active, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export const APOLOGY_ON_CRASH = "I'm sorry, something went wrong on our side and I have to end this call. Please call us back.";

type CallActor = Actor<CallMachine>;

/** A call as the supervisor keeps it between incarnations of its actor. */
interface LiveCall {
  identity: CallInput;
  actor: CallActor | undefined;
  peer: CallPeer | undefined;
  suspendTimer: NodeJS.Timeout | undefined;
  /** The persisted snapshot of the last turn boundary: what a crashed actor restarts from. */
  snapshot: Snapshot<unknown> | undefined;
  /** Turns completed at that snapshot; -1 until the first one, taken when the call first listens. */
  persistedTurns: number;
  /** Turn-starting events since the last boundary, replayed into a restarted actor so the turn is answered. */
  sinceBoundary: CallerEvent[];
  highestSay: number;
  finished: boolean;
}

/**
 * The dynamic supervisor of calls: one actor per call, restarted from its last turn-boundary
 * snapshot when it crashes, each call with its own restart intensity so one poisoned call never
 * touches another.
 */
export function createCallSupervisor(options: CallSupervisorOptions): CallSupervisor {
  const { log, store } = options;
  const calls = new Map<string, LiveCall>();
  const endedWaiters = new Set<() => void>();
  const machine = createCallMachine({ ...options.effects, send: route });
  const children = dynamicSupervisor<LiveCall>({
    intensity: options.restartIntensity,
    periodMs: options.restartPeriodMs,
    perChild: true,
  });

  children.on('restart', (callId: string, attempt: number, error: Error) => {
    options.onRestart?.();
    log.warn({ event: 'call.restarted', callId, attempt, error: error.message });
  });
  children.on('giveUp', (callId: string, error: Error) => {
    const call = calls.get(callId);
    log.error({ event: 'call.gave_up', callId, error: error.message });
    if (!call) return;
    call.actor = undefined;
    route(callId, { type: 'say', id: `s${call.highestSay + 1}`, turn: turnOf(call), text: APOLOGY_ON_CRASH, last: true });
    route(callId, { type: 'hangup', reason: 'error' });
    finish(callId, call, 'error');
  });

  function route(callId: string, frame: OutboundFrame): void {
    const call = calls.get(callId);
    if (!call) return;
    if (frame.type === 'say') call.highestSay = Math.max(call.highestSay, Number(frame.id.slice(1)) || 0);
    call.peer?.send(frame);
  }

  function startActor(callId: string, call: LiveCall): ChildHandle {
    const restarting = call.actor !== undefined;
    const snapshot = call.snapshot ? withSayCounter(call.snapshot, call.highestSay) : undefined;
    const actor = createActor(machine, { input: call.identity, snapshot });
    call.actor = actor;
    let settle!: (reason: ExitReason) => void;
    const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
    actor.subscribe({
      next: (state) => {
        if (state.status === 'done') {
          settle({ kind: 'normal' });
          finish(callId, call, state.context.endReason ?? 'completed', state.context);
          return;
        }
        if (state.value === 'listening' && state.context.turnsCompleted !== call.persistedTurns) persist(callId, call, actor);
      },
      error: (error) => settle({ kind: 'crash', error: error instanceof Error ? error : new Error(String(error)) }),
    });
    actor.start();
    if (restarting) for (const event of call.sinceBoundary) actor.send(event);
    return {
      exited,
      stop: async () => {
        actor.stop();
        settle({ kind: 'shutdown' });
      },
    };
  }

  function persist(callId: string, call: LiveCall, actor: CallActor): void {
    const snapshot = actor.getPersistedSnapshot();
    call.snapshot = snapshot;
    call.persistedTurns = (snapshot as unknown as { context: CallContext }).context.turnsCompleted;
    call.sinceBoundary = [];
    store.saveSnapshot(callId, snapshot).catch((error: Error) =>
      log.warn({ event: 'call.snapshot_failed', callId, error: error.message }));
  }

  function finish(callId: string, call: LiveCall, outcome: string, context?: CallContext): void {
    if (call.finished) return;
    call.finished = true;
    clearTimeout(call.suspendTimer);
    calls.delete(callId);
    call.peer?.end(1000, 'call ended');
    const summary = summarize(call.identity, context, outcome);
    store.endCall(callId, summary).catch((error: Error) => log.warn({ event: 'call.summary_failed', callId, error: error.message }));
    options.onCallEnded?.(summary, context);
    void children.terminateChild(callId);
    for (const notify of endedWaiters) notify();
  }

  async function open(request: StartRequest, peer: CallPeer): Promise<OpenResult> {
    const agent = request.agent ?? 'default';
    if (!options.knownAgents.has(agent)) {
      return { ok: false, code: 'bad_message', message: `start: agent: unknown agent "${agent}"`, fatal: false };
    }
    if (request.resume && request.callId) return resume(request.callId, request, peer);
    if (calls.size >= options.maxCalls) {
      return { ok: false, code: 'overloaded', message: `the runtime is at its limit of ${options.maxCalls} calls; try again later`, fatal: true };
    }
    const refusal = options.overload?.refusal();
    if (refusal) return { ok: false, code: 'overloaded', message: refusal, fatal: true };
    const callId = request.callId ?? randomUUID();
    if (calls.has(callId)) return { ok: false, code: 'call_busy', message: `call "${callId}" is already active`, fatal: false };
    const identity: CallInput = {
      callId, agent, from: request.from, to: request.to, metadata: request.metadata, startedAt: Date.now(),
    };
    return begin(callId, newCall(identity, undefined, peer), false);
  }

  async function resume(callId: string, request: StartRequest, peer: CallPeer): Promise<OpenResult> {
    const live = calls.get(callId);
    if (live) {
      if (live.peer) return { ok: false, code: 'call_busy', message: `call "${callId}" is still connected elsewhere`, fatal: false };
      clearTimeout(live.suspendTimer);
      live.suspendTimer = undefined;
      live.peer = peer;
      peer.send({ type: 'ready', callId, protocol: PROTOCOL, resumed: true });
      log.info({ event: 'call.resumed', callId, from: 'suspended' });
      return { ok: true, callId };
    }
    if (calls.size >= options.maxCalls) {
      return { ok: false, code: 'overloaded', message: `the runtime is at its limit of ${options.maxCalls} calls; try again later`, fatal: true };
    }
    const stored = (await store.loadSnapshot(callId)) as Snapshot<unknown> | undefined;
    if (stored) {
      const context = (stored as unknown as { context: CallContext }).context;
      const call = newCall(identityOf(context), stored, peer);
      call.persistedTurns = context.turnsCompleted;
      call.highestSay = context.sayCounter;
      return begin(callId, call, true);
    }
    const history = await store.context(callId, 1);
    if (history.length === 0) {
      return { ok: false, code: 'unknown_call', message: `no stored call "${callId}" to resume`, fatal: false };
    }
    const identity: CallInput = {
      callId, agent: request.agent ?? 'default', from: request.from, to: request.to, metadata: request.metadata, startedAt: Date.now(), resumed: true,
    };
    return begin(callId, newCall(identity, undefined, peer), true);
  }

  async function begin(callId: string, call: LiveCall, resumed: boolean): Promise<OpenResult> {
    calls.set(callId, call);
    try {
      await children.startChild({ id: callId, start: (live) => startActor(callId, live), restart: 'transient', shutdownMs: 1_000 }, call);
    } catch (error) {
      calls.delete(callId);
      throw error;
    }
    const actor = call.actor;
    if (!actor || call.finished) return { ok: false, code: 'internal', message: 'the call could not be started', fatal: true };
    if (actor.getSnapshot().value === 'connecting') await whenPrepared(actor);
    if (call.finished) return { ok: false, code: 'internal', message: 'the call could not be started', fatal: true };
    call.peer?.send({ type: 'ready', callId, protocol: PROTOCOL, resumed });
    log.info({ event: resumed ? 'call.resumed' : 'call.started', callId, agent: call.identity.agent, from: maskPhone(call.identity.from) });
    return { ok: true, callId };
  }

  function deliver(callId: string, event: CallerEvent): void {
    const call = calls.get(callId);
    if (!call?.actor) return;
    if ((event.type === 'caller.transcript' && event.final) || event.type === 'caller.dtmf') call.sinceBoundary.push(event);
    call.actor.send(event);
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

  async function idle(timeoutMs: number): Promise<boolean> {
    if (calls.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const check = () => {
        if (calls.size === 0) done(true);
      };
      function done(result: boolean) {
        clearTimeout(timer);
        endedWaiters.delete(check);
        resolve(result);
      }
      endedWaiters.add(check);
    });
  }

  return {
    open,
    deliver,
    detach,
    active: () => calls.size,
    idle,
    endAll: async (timeoutMs) => {
      for (const call of calls.values()) call.actor?.send({ type: 'runtime.shutdown' } satisfies CallEvent);
      await idle(timeoutMs);
    },
    stop: async () => {
      for (const [callId, call] of calls) finish(callId, call, 'shutdown', call.actor?.getSnapshot().context);
      await children.stop();
    },
  };
}

function newCall(identity: CallInput, snapshot: Snapshot<unknown> | undefined, peer: CallPeer): LiveCall {
  return {
    identity, actor: undefined, peer, suspendTimer: undefined, snapshot, persistedTurns: -1,
    sinceBoundary: [], highestSay: 0, finished: false,
  };
}

function identityOf(context: CallContext): CallInput {
  const { callId, agent, from, to, metadata, startedAt } = context;
  return { callId, agent, from, to, metadata, startedAt };
}

function turnOf(call: LiveCall): number {
  const context = (call.snapshot as unknown as { context?: CallContext } | undefined)?.context;
  return Math.max(1, context?.turn ?? 1);
}

/** A restarted actor must not reuse `say` ids its crashed predecessor already sent. */
function withSayCounter(snapshot: Snapshot<unknown>, highestSay: number): Snapshot<unknown> {
  const persisted = snapshot as unknown as { context: CallContext };
  if (persisted.context.sayCounter >= highestSay) return snapshot;
  return { ...persisted, context: { ...persisted.context, sayCounter: highestSay } } as unknown as Snapshot<unknown>;
}

function whenPrepared(actor: CallActor): Promise<void> {
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

function summarize(identity: CallInput, context: CallContext | undefined, outcome: string): CallSummary {
  return {
    callId: identity.callId,
    agent: identity.agent,
    from: identity.from,
    to: identity.to,
    startedAt: identity.startedAt,
    endedAt: Date.now(),
    outcome: outcomeOf(outcome),
    turns: context?.turnsCompleted ?? 0,
    inputTokens: context?.usage.inputTokens ?? 0,
    outputTokens: context?.usage.outputTokens ?? 0,
    costUsd: context?.costUsd ?? 0,
  };
}

function outcomeOf(reason: string): CallSummary['outcome'] {
  if (reason.startsWith('caller:')) return 'hangup';
  switch (reason) {
    case 'transferred': return 'transferred';
    case 'dropped':
    case 'slow_consumer': return 'dropped';
    case 'budget': return 'budget';
    case 'shutdown': return 'shutdown';
    case 'error': return 'error';
    default: return 'completed';
  }
}
