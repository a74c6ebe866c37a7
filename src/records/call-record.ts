import { addUsage, emptyUsage, type StopReason, type TokenUsage } from '../llm/messages.js';
import type { CallObservation, ModelTarget } from './observations.js';

/**
 * One call as `GET /v1/calls/{id}` answers it (docs/call-records.schema.json). Times of day are
 * ISO 8601; times inside a turn are milliseconds after the caller's final words were read, so a
 * turn's timeline reads straight off them.
 */
export interface CallRecord {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  status: 'active' | 'ended';
  state: string;
  startedAt: string;
  endedAt?: string;
  outcome?: string;
  endReason?: string;
  resumed: boolean;
  turns: TurnRecord[];
  usage: TokenUsage;
  costUsd: number;
}

export interface TurnRecord {
  turn: number;
  startedAt: string;
  /** Milliseconds after `startedAt` when the turn was over (the machine left `responding`). */
  endedMs?: number;
  /** What the caller said (the final transcript, with any unanswered words before it). */
  transcript: string;
  historyReads: Array<{ round: number; startMs: number; endMs: number; messages: number }>;
  modelRequests: ModelRequestRecord[];
  fallbacks: Array<{ atMs: number; from: ModelTarget; to?: ModelTarget; hop: 'region' | 'model' | 'canned'; reason: string; code: string }>;
  tools: Array<{ round: number; toolUseId: string; name: string; input: unknown; outcome: string; result: unknown; startMs: number; endMs: number }>;
  said: Array<{ id: string; text: string; last: boolean; atMs: number; playedMs?: number }>;
  /** The chunks the caller heard (acknowledged as played), joined. */
  heard: string;
  firstSayMs?: number;
  /** When the turn's last chunk was played. */
  playedMs?: number;
  usage: TokenUsage;
  costUsd: number;
}

export interface ModelRequestRecord {
  round: number;
  modelId: string;
  region: string;
  /** Answered from the first-answer cache, not by Bedrock. */
  cached: boolean;
  requestMs: number;
  firstEventMs?: number;
  firstSentenceMs?: number;
  endMs?: number;
  outcome: 'streaming' | 'ok' | string;
  stopReason?: StopReason;
  usage?: TokenUsage;
  costUsd?: number;
  error?: string;
}

/** The one-line form `GET /v1/calls` lists. */
export interface CallListing {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  state: string;
  startedAt: string;
  turns: number;
  costUsd: number;
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString();
const offset = (turnStart: number, at: number): number => Math.round((at - turnStart) * 10) / 10;

/** A call's record while it is live: the record and the epoch start of each turn, for offsets. */
export interface RecordState {
  record: CallRecord;
  turnStarts: Map<number, number>;
}

export function newRecordState(callId: string, started: Extract<CallObservation, { type: 'call.started' }>): RecordState {
  return {
    record: {
      callId,
      agent: started.agent,
      ...(started.from ? { from: started.from } : {}),
      ...(started.to ? { to: started.to } : {}),
      status: 'active',
      state: 'connecting',
      startedAt: iso(started.at),
      resumed: started.resumed,
      turns: [],
      usage: emptyUsage(),
      costUsd: 0,
    },
    turnStarts: new Map(),
  };
}

/** Folds one observation into the record (in place: the record is this call's own). */
export function applyObservation(state: RecordState, observation: CallObservation): void {
  const { record } = state;
  const turnOf = (turn: number): { turn: TurnRecord; start: number } | undefined => {
    const start = state.turnStarts.get(turn);
    const found = record.turns.findLast((candidate) => candidate.turn === turn);
    return found && start !== undefined ? { turn: found, start } : undefined;
  };
  switch (observation.type) {
    case 'call.started':
      return;
    case 'state': {
      const leftTurn = record.state.startsWith('responding') && !observation.state.startsWith('responding');
      record.state = observation.state;
      const current = record.turns.at(-1);
      if (leftTurn && current && current.endedMs === undefined) {
        current.endedMs = offset(state.turnStarts.get(current.turn) ?? observation.at, observation.at);
      }
      return;
    }
    case 'turn.started': {
      // A superseded turn (the caller went on before anything was said) is replaced by the one that answers both.
      const last = record.turns.at(-1);
      if (last?.turn === observation.turn) record.turns.pop();
      state.turnStarts.set(observation.turn, observation.at);
      record.turns.push(emptyTurn(observation.turn, iso(observation.at), observation.words));
      return;
    }
    case 'history.read': {
      const found = turnOf(observation.turn);
      found?.turn.historyReads.push({
        round: observation.round,
        startMs: offset(found.start, observation.startedAt),
        endMs: offset(found.start, observation.endedAt),
        messages: observation.messages,
      });
      return;
    }
    case 'model.request': {
      const found = turnOf(observation.turn);
      found?.turn.modelRequests.push({
        round: observation.round,
        ...observation.target,
        cached: observation.cached,
        requestMs: offset(found.start, observation.at),
        outcome: 'streaming',
      });
      return;
    }
    case 'model.firstEvent':
    case 'model.firstSentence':
    case 'model.done':
    case 'model.failed': {
      const found = turnOf(observation.turn);
      const request = found?.turn.modelRequests.findLast((candidate) => candidate.round === observation.round && candidate.outcome === 'streaming');
      if (!found || !request) return;
      const at = offset(found.start, observation.at);
      if (observation.type === 'model.firstEvent') request.firstEventMs ??= at;
      else if (observation.type === 'model.firstSentence') request.firstSentenceMs ??= at;
      else if (observation.type === 'model.failed') Object.assign(request, { endMs: at, outcome: observation.code, error: observation.message });
      else {
        Object.assign(request, { endMs: at, outcome: 'ok', usage: observation.usage, costUsd: observation.costUsd });
        if (observation.stopReason) request.stopReason = observation.stopReason;
        found.turn.usage = addUsage(found.turn.usage, observation.usage);
        found.turn.costUsd += observation.costUsd;
        record.usage = addUsage(record.usage, observation.usage);
        record.costUsd += observation.costUsd;
      }
      return;
    }
    case 'fallback': {
      const found = turnOf(observation.turn);
      const { at, turn, type, ...hop } = observation;
      found?.turn.fallbacks.push({ atMs: offset(found.start, at), ...hop });
      return;
    }
    case 'tool': {
      const found = turnOf(observation.turn);
      const { startedAt, endedAt, turn, type, ...tool } = observation;
      found?.turn.tools.push({ ...tool, startMs: offset(found.start, startedAt), endMs: offset(found.start, endedAt) });
      return;
    }
    case 'say': {
      const found = turnOf(observation.turn);
      if (!found) return;
      const atMs = offset(found.start, observation.at);
      found.turn.said.push({ id: observation.id, text: observation.text, last: observation.last, atMs });
      found.turn.firstSayMs ??= atMs;
      return;
    }
    case 'played': {
      for (const turn of record.turns.toReversed()) {
        const chunk = turn.said.find((candidate) => candidate.id === observation.id);
        if (!chunk || chunk.playedMs !== undefined) continue;
        const start = state.turnStarts.get(turn.turn) ?? observation.at;
        chunk.playedMs = offset(start, observation.at);
        turn.heard = turn.said.filter((candidate) => candidate.playedMs !== undefined).map((candidate) => candidate.text).join(' ');
        if (chunk.last) turn.playedMs = chunk.playedMs;
        return;
      }
      return;
    }
    case 'speech.transcribed':
    case 'speech.synthesized':
      // Traced only: the record's turns already say when the words were read and played.
      return;
    case 'call.ended': {
      record.status = 'ended';
      record.state = 'ended';
      record.endedAt = iso(observation.at);
      record.outcome = observation.outcome;
      if (observation.endReason) record.endReason = observation.endReason;
      const current = record.turns.at(-1);
      if (current && current.endedMs === undefined) current.endedMs = offset(state.turnStarts.get(current.turn) ?? observation.at, observation.at);
      return;
    }
  }
}

export function listing(record: CallRecord): CallListing {
  const { callId, agent, from, to, state, startedAt, costUsd } = record;
  return { callId, agent, ...(from ? { from } : {}), ...(to ? { to } : {}), state, startedAt, turns: record.turns.length, costUsd };
}

function emptyTurn(turn: number, startedAt: string, transcript: string): TurnRecord {
  return {
    turn, startedAt, transcript, historyReads: [], modelRequests: [], fallbacks: [], tools: [], said: [], heard: '', usage: emptyUsage(), costUsd: 0,
  };
}
