import { LRUCache } from 'lru-cache';
import { maskPhone } from '../log.js';
import { applyObservation, newRecordState, type CallRecord, type RecordState } from './call-record.js';
import type { CallObservation, CallObserver } from './observations.js';

export type RecordListener = (observation: CallObservation, record: CallRecord) => void;

export interface CallRecordsOptions {
  /** Stores an ended call's record (memory: DynamoDB beside its history and summary). */
  persist?: (record: CallRecord) => void;
  /** Reads a stored record back; what it returns is checked before it is served. */
  load?: (callId: string) => Promise<unknown>;
  /** Ended calls kept in process, so a record is there before its durable write lands. */
  keepEnded?: number;
}

/** The records of this node's calls: live ones as they happen, ended ones from memory. */
export interface CallRecords {
  observe: CallObserver;
  /** Active calls, oldest first. */
  active(): CallRecord[];
  /** An active or recently ended call; `undefined` when this node has none in process. */
  live(callId: string): CallRecord | undefined;
  /** `live`, else the stored record; `undefined` for a call nobody knows. */
  find(callId: string): Promise<CallRecord | undefined>;
  /** Every observation of a live call from now on; returns the unsubscribe. */
  subscribe(callId: string, listener: RecordListener): () => void;
}

export function createCallRecords(options: CallRecordsOptions = {}): CallRecords {
  const active = new Map<string, RecordState>();
  const ended = new LRUCache<string, CallRecord>({ max: options.keepEnded ?? 500 });
  const listeners = new Map<string, Set<RecordListener>>();

  const observe: CallObserver = (callId, observation) => {
    let state = active.get(callId);
    if (observation.type === 'call.started') {
      state = newRecordState(callId, observation);
      active.set(callId, state);
    }
    if (!state) return;
    applyObservation(state, observation);
    for (const listener of listeners.get(callId) ?? []) listener(observation, state.record);
    if (observation.type === 'call.ended') {
      active.delete(callId);
      ended.set(callId, state.record);
      listeners.delete(callId);
      options.persist?.(state.record);
    }
  };

  const live = (callId: string): CallRecord | undefined => active.get(callId)?.record ?? ended.get(callId);

  return {
    observe,
    active: () => [...active.values()].map((state) => state.record),
    live,
    async find(callId) {
      const found = live(callId);
      if (found) return found;
      const stored = await options.load?.(callId);
      return isCallRecord(stored) ? stored : undefined;
    },
    subscribe(callId, listener) {
      let set = listeners.get(callId);
      if (!set) {
        set = new Set();
        listeners.set(callId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(callId) === set) listeners.delete(callId);
      };
    },
  };
}

/** Enough of a record's shape that serving it cannot throw; stored records are this code's own. */
function isCallRecord(value: unknown): value is CallRecord {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<CallRecord>;
  return typeof candidate.callId === 'string' && typeof candidate.agent === 'string' && Array.isArray(candidate.turns) && typeof candidate.startedAt === 'string';
}

/**
 * The record as a key that may not see phone numbers gets it: the caller's and the called number
 * masked wherever they appear (a tool's input or result may carry them too).
 */
export function maskNumbers<T>(value: T, record: Pick<CallRecord, 'from' | 'to'>): T {
  const numbers = [record.from, record.to].filter((number): number is string => typeof number === 'string' && number.length > 0);
  if (numbers.length === 0) return value;
  return JSON.parse(JSON.stringify(value, (_key, field: unknown) => {
    if (typeof field !== 'string') return field;
    let masked = field;
    for (const number of numbers) masked = masked.split(number).join(maskPhone(number) ?? '');
    return masked;
  })) as T;
}
