import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { numberFlag, UsageError } from './flags.js';
import { PROTOCOL, type OutboundFrame } from '../protocol/frames.js';

export const CALL_USAGE = [
  'usage: aybiza call [--url ws://...] [--token KEY] [--agent NAME] [--playback-ms-per-word MS]',
  '  --url ws://...             the server (default ws://127.0.0.1:$AYBIZA_PORT/v1/calls, port 8080)',
  '  --token KEY                API key, when the server has some (AYBIZA_CALL_TOKEN)',
  '  --agent NAME               the agent to call (default)',
  '  --playback-ms-per-word MS  how long each word takes to "hear" before it counts as played (250); /interrupt cuts in meanwhile',
  '  then type what the caller says, one utterance a line; /dtmf 1 presses a key, /interrupt barges in, /hangup ends the call',
  '  a lost connection is resumed (the call\'s resumeToken, within the server\'s resumeGraceMs)',
].join('\n');

/** Reconnections tried after a connection is lost, this far apart: within the default 10 s resume grace. */
const RESUME_ATTEMPTS = 5;
const RESUME_RETRY_MS = 500;

type Say = Extract<OutboundFrame, { type: 'say' }>;

/**
 * `aybiza call`: a terminal telephone. Each line is what the caller says; the agent's words are
 * printed as they stream. A line waits until the agent listens again, so piped input reads as a
 * conversation, except /interrupt and /hangup, which cut in as soon as the agent has begun to answer.
 */
export async function runCallCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      agent: { type: 'string', default: 'default' },
      'playback-ms-per-word': { type: 'string' },
    },
  });
  const msPerWord = numberFlag('--playback-ms-per-word', values['playback-ms-per-word']) ?? 250;
  const url = new URL(values.url ?? `ws://127.0.0.1:${process.env.AYBIZA_PORT || 8080}/v1/calls`);
  const token = values.token ?? process.env.AYBIZA_CALL_TOKEN;
  const out = process.stdout;
  const echo = !process.stdin.isTTY;

  const connect = async (): Promise<WebSocket> => {
    const socket = new WebSocket(url, PROTOCOL, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) =>
        reject(new UsageError(`aybiza call: ${url} refused the call (${response.statusCode}${response.statusCode === 401 ? ': give the API key with --token or AYBIZA_CALL_TOKEN' : ''})`)));
      socket.once('error', (error) => reject(new UsageError(`aybiza call: cannot reach ${url} (${error.message}): is \`aybiza serve\` (npm start) running? --url names another server`)));
    });
    return socket;
  };
  let ws = await connect();
  /** Set by the first `ready`: what a resume after a lost connection presents. */
  let call: { callId: string; resumeToken: string } | undefined;
  let resumeAttempt = 0;

  const lines: string[] = [];
  let inputEnded = false;
  let ready = false;
  /** The turn being answered: its say frames arrived, the agent has not finished. */
  let answering: { turn: number | undefined; timers: NodeJS.Timeout[]; playedUntil: number; interrupted?: true } | undefined;
  /** An agent line is being printed: anything else printed first ends it. */
  let agentLineOpen = false;
  const print = (text: string) => {
    out.write(`${agentLineOpen ? '\n' : ''}${text}\n`);
    agentLineOpen = false;
  };
  let ended = false;

  const finish = (message: string) => {
    if (ended) return;
    ended = true;
    for (const timer of answering?.timers ?? []) clearTimeout(timer);
    print(message);
    ws.close(1000);
  };

  const pump = () => {
    while (ready && !ended && lines.length > 0) {
      const line = lines[0]!.trim();
      const cutsIn = line === '/interrupt' || line === '/hangup';
      if (answering && !(cutsIn && answering.turn !== undefined)) return;
      lines.shift();
      if (line === '') continue;
      if (echo) print(`you: ${line}`);
      if (line === '/hangup') {
        ws.send(JSON.stringify({ type: 'hangup', reason: 'caller' }));
        finish('(you hung up)');
        return;
      }
      if (line === '/interrupt') {
        if (answering) {
          ws.send(JSON.stringify({ type: 'speech_started' }));
          answering.interrupted = true;
        }
        continue;
      }
      const dtmf = line.match(/^\/dtmf\s+([0-9*#A-D])$/);
      if (dtmf) {
        ws.send(JSON.stringify({ type: 'dtmf', digit: dtmf[1] }));
        answering = { turn: undefined, timers: [], playedUntil: 0 };
        // A key the agent does not speak about starts no turn: listen again after a moment's silence.
        answering.timers.push(setTimeout(() => settle(), 1_000));
        continue;
      }
      if (line.startsWith('/')) {
        print('(commands: /dtmf DIGIT, /interrupt, /hangup)');
        continue;
      }
      ws.send(JSON.stringify({ type: 'transcript', text: line, final: true }));
      answering = { turn: undefined, timers: [], playedUntil: 0 };
    }
    if (ready && !ended && inputEnded && lines.length === 0 && !answering) {
      ws.send(JSON.stringify({ type: 'hangup', reason: 'caller' }));
      finish('(end of input: you hung up)');
    }
  };

  const settle = () => {
    for (const timer of answering?.timers ?? []) clearTimeout(timer);
    answering = undefined;
    pump();
  };

  const heard = (frame: Say) => {
    answering ??= { turn: undefined, timers: [], playedUntil: 0 };
    const current = answering;
    // Chunks the server sent before it saw the interruption are cleared, never heard: not printed.
    if (current.interrupted && current.turn === frame.turn) return;
    if (current.turn === undefined) {
      for (const timer of current.timers) clearTimeout(timer);
      current.timers = [];
      current.turn = frame.turn;
      out.write(`${agentLineOpen ? '\n' : ''}agent:`);
      agentLineOpen = true;
    }
    if (frame.text) out.write(` ${frame.text}`);
    if (frame.last) {
      out.write('\n');
      agentLineOpen = false;
    }
    // Chunks play one after another, as a caller hears them; the last one played ends the turn.
    const words = frame.text.split(/\s+/).filter(Boolean).length;
    current.playedUntil = Math.max(Date.now(), current.playedUntil) + words * msPerWord;
    current.timers.push(setTimeout(() => {
      ws.send(JSON.stringify({ type: 'played', id: frame.id }));
      if (frame.last && answering === current) settle();
    }, current.playedUntil - Date.now()));
    // An /interrupt waiting for the answer to begin cuts in now, before anything was played.
    pump();
  };

  const onMessage = (data: WebSocket.RawData) => {
    const frame = JSON.parse(String(data)) as OutboundFrame;
    switch (frame.type) {
      case 'ready':
        ready = true;
        resumeAttempt = 0;
        if (frame.resumed) print(`(resumed call ${frame.callId}: the call goes on)`);
        else print(`(connected to ${values.agent}, call ${frame.callId}; type what the caller says, /dtmf 1, /interrupt, /hangup)`);
        call = { callId: frame.callId, resumeToken: frame.resumeToken };
        break;
      case 'say':
        heard(frame);
        break;
      case 'clear':
        print('(the agent stopped: interrupted)');
        settle();
        return;
      case 'transfer':
        print(`(transferred to ${frame.to}${frame.reason ? `: ${frame.reason}` : ''})`);
        break;
      case 'hangup':
        finish(`(the agent hung up: ${frame.reason})`);
        return;
      case 'error':
        // The server has not yet seen the old connection go: the close below tries again.
        if (!ready && call && frame.code === 'call_busy') {
          ws.terminate();
          return;
        }
        print(`(error ${frame.code}: ${frame.message})`);
        if (!ready) {
          finish(call ? '(the call could not be resumed)' : '(the call was not started)');
          process.exitCode = 2;
        } else if (answering?.turn === undefined) settle();
        return;
    }
    pump();
  };

  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    lines.push(line);
    pump();
  });
  input.on('close', () => {
    inputEnded = true;
    pump();
  });

  await new Promise<void>((resolve) => {
    const attach = (socket: WebSocket) => {
      socket.on('message', onMessage);
      socket.on('error', () => undefined);
      // 1000 and 1008 are the server ending or refusing the call; anything else (1006: cut) loses the connection only.
      socket.on('close', (code) => void (code === 1000 || code === 1008 ? resolve() : lost()));
    };
    /** A connection that closed before the call ended is resumed, a few times, then given up. */
    const lost = async (): Promise<void> => {
      if (ended || !call || resumeAttempt >= RESUME_ATTEMPTS) return resolve();
      if (resumeAttempt === 0) print('(connection lost: resuming the call)');
      resumeAttempt += 1;
      ready = false;
      // What was being answered was cut at the server as by a barge-in; the next line is a new turn.
      for (const timer of answering?.timers ?? []) clearTimeout(timer);
      answering = undefined;
      await new Promise((wait) => setTimeout(wait, resumeAttempt === 1 ? 0 : RESUME_RETRY_MS));
      let socket: WebSocket;
      try {
        socket = await connect();
      } catch {
        return lost();
      }
      ws = socket;
      attach(socket);
      socket.send(JSON.stringify({ type: 'start', callId: call.callId, resume: true, resumeToken: call.resumeToken, agent: values.agent }));
    };
    attach(ws);
    // No `from`: it must be the caller's E.164 number or SIP URI, and a terminal has none.
    ws.send(JSON.stringify({ type: 'start', agent: values.agent, metadata: { client: 'aybiza-call' } }));
  });
  if (!ended) print('(the server closed the call)');
  input.close();
}
