// The AYBIZA browser softphone: an `aybiza.v1` client like any other (docs/protocol.md).
// Plain ES module, no dependencies, nothing loaded from elsewhere.

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'aybiza.apiKey';
// Without speech synthesis a `say` counts as heard after this long per word, as a listener would
// take to hear it, so the agent can be interrupted mid-answer. `?playbackMsPerWord=` changes it.
const playbackMsPerWord = Number(new URLSearchParams(location.search).get('playbackMsPerWord') ?? 250);
const speech = 'speechSynthesis' in window ? window.speechSynthesis : undefined;
const Recognition = window.SpeechRecognition ?? window.webkitSpeechRecognition;

let socket;
/** The call in progress, from its `ready`: a cut connection is resumed with its token (kept in memory only). */
let call;
const RESUME_ATTEMPTS = 5;
const RESUME_RETRY_MS = 500;
/** A resume was sent and not yet answered with `ready`. */
let resuming = false;
/** The agent's bubble per turn, and the playback of each chunk not yet acknowledged. */
const bubbles = new Map();
const pending = new Map();
/** The agent called, for its voice at `/v1/speech`. */
let agentName = 'default';
/** "Agent voice: server": made on Call (a click lets it play); chunks play one after another, the end of the last queued here. */
let audio;
let audioQueue = Promise.resolve();
/** Said once per call, not per chunk, when the server's voice fails. */
let voiceFailed = false;

$('key').value = sessionStorage.getItem(KEY_STORAGE) ?? '';
$('voice').querySelector('option[value="browser"]').disabled = !speech;
$('voice').value = speech ? 'browser' : 'text';
if (Recognition) $('listen').hidden = false;
listAgents($('key').value);
$('key').addEventListener('change', () => listAgents($('key').value.trim()));

for (const digit of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = digit;
  button.disabled = true;
  button.dataset.digit = digit;
  button.addEventListener('click', () => {
    send({ type: 'dtmf', digit });
    note(`You pressed ${digit}.`);
  });
  $('keypad').append(button);
}

$('dial').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('key').value.trim();
  sessionStorage.setItem(KEY_STORAGE, key);
  if ($('voice').value === 'server') audio ??= new AudioContext();
  dial($('agent').value.trim() || 'default', key);
});
$('hangup').addEventListener('click', () => {
  send({ type: 'hangup', reason: 'caller' });
  ended('You hung up.');
});
$('talk').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('utterance').value.trim();
  if (!text) return;
  $('utterance').value = '';
  say(text);
});
// Barge-in silences the agent at once; the server's `clear` follows.
$('interrupt').addEventListener('click', () => {
  send({ type: 'speech_started' });
  silence();
});
$('listen').addEventListener('click', listen);

/** Offers the server's agents to pick from; without them (a wrong key) the name is typed. */
async function listAgents(key) {
  const response = await fetch(`/v1/agents${key ? `?token=${encodeURIComponent(key)}` : ''}`).catch(() => undefined);
  if (!response?.ok) return;
  const { agents } = await response.json();
  $('agents').replaceChildren(...agents.map((name) => Object.assign(document.createElement('option'), { value: name })));
}

function dial(agent, key) {
  agentName = agent;
  voiceFailed = false;
  bubbles.clear();
  $('conversation').replaceChildren();
  call = undefined;
  status(`Calling ${agent}…`);
  connect(agent, key, { type: 'start', agent, metadata: { client: 'softphone' } }, 0);
  inCall(true);
}

/** Opens the socket and sends `start`; a connection cut while in a call (not 1000 or 1008: the server ending it) is resumed. */
function connect(agent, key, start, attempt) {
  const url = new URL('/v1/calls', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (key) url.searchParams.set('token', key);
  const current = new WebSocket(url, 'aybiza.v1');
  socket = current;
  resuming = start.resume === true;
  let opened = false;
  current.addEventListener('open', () => {
    opened = true;
    send(start);
  });
  current.addEventListener('message', (event) => receive(JSON.parse(event.data)));
  current.addEventListener('close', (event) => {
    if (socket !== current) return;
    const cut = event.code !== 1000 && event.code !== 1008;
    if (call && cut && attempt < RESUME_ATTEMPTS) {
      if (attempt === 0) note('Connection lost: resuming the call…');
      silence();
      const resume = { type: 'start', callId: call.callId, resume: true, resumeToken: call.resumeToken, agent };
      setTimeout(() => connect(agent, key, resume, attempt + 1), attempt === 0 ? 0 : RESUME_RETRY_MS);
      return;
    }
    if (!opened && !call) ended('The server refused the call (a wrong or missing API key, or the server is draining).');
    else ended('The call ended.');
  });
}

function receive(frame) {
  switch (frame.type) {
    case 'ready':
      resuming = false;
      if (frame.resumed) note('Resumed: the call goes on.');
      call = { callId: frame.callId, resumeToken: frame.resumeToken };
      status(`In a call with ${$('agent').value || 'default'} (${frame.callId}). Type or speak.`);
      $('utterance').focus();
      break;
    case 'say':
      heard(frame);
      break;
    case 'clear':
      speech?.cancel();
      for (const [id, playback] of pending) if (playback.turn === frame.turn) stopPlayback(id);
      bubbles.get(frame.turn)?.classList.add('interrupted');
      break;
    case 'transfer':
      note(`Transferred to ${frame.to}${frame.reason ? ` (${frame.reason})` : ''}.`);
      break;
    case 'hangup':
      note(`The agent hung up (${frame.reason}).`);
      break;
    case 'error':
      // The server has not yet seen the cut connection go: closing this one tries again.
      if (resuming && frame.code === 'call_busy') {
        socket?.close(4000, 'resume again');
        break;
      }
      note(`Error ${frame.code}: ${frame.message}`);
      if (resuming) {
        ended('The call could not be resumed.');
        break;
      }
      if (frame.fatal) status('The call failed.');
      break;
  }
}

/** Shows a chunk as it arrives and acknowledges it once it was (or would have been) heard. */
function heard(frame) {
  let bubble = bubbles.get(frame.turn);
  if (!bubble) {
    bubble = line('agent', '');
    bubble.dataset.turn = String(frame.turn);
    bubbles.set(frame.turn, bubble);
  }
  if (frame.text) bubble.textContent = `${bubble.textContent} ${frame.text}`.trim();
  if (frame.last) bubble.dataset.complete = 'true';
  const played = () => {
    if (!pending.delete(frame.id)) return;
    send({ type: 'played', id: frame.id });
  };
  const words = frame.text.split(/\s+/).filter(Boolean).length;
  const heardAfterReading = () => {
    if (pending.has(frame.id)) pending.set(frame.id, { turn: frame.turn, timer: setTimeout(played, words * playbackMsPerWord) });
  };
  pending.set(frame.id, { turn: frame.turn });
  const voice = $('voice').value;
  if (voice === 'server' && audio && frame.text) {
    // Fetched now, beside the chunks before it; played after them.
    const clip = agentAudio(frame.text);
    audioQueue = audioQueue.then(() => playClip(frame.id, clip, played, heardAfterReading)).catch(heardAfterReading);
  } else if (voice === 'browser' && speech && frame.text) {
    const utterance = new SpeechSynthesisUtterance(frame.text);
    utterance.addEventListener('end', played);
    // A browser without voices fails the utterance: the chunk then counts as read instead.
    utterance.addEventListener('error', heardAfterReading);
    speech.speak(utterance);
  } else {
    heardAfterReading();
  }
}

/** The chunk's audio in the agent's voice from `POST /v1/speech`, decoded for Web Audio. */
async function agentAudio(text) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const response = await fetch('/v1/speech', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ text, agent: agentName }),
  });
  if (!response.ok) throw new Error((await response.json().catch(() => undefined))?.error ?? `HTTP ${response.status}`);
  return audio.decodeAudioData(await response.arrayBuffer());
}

/** Plays one chunk once those before it have ended; `played` only when its audio has ended, not when it was stopped. */
async function playClip(id, clip, played, heardAfterReading) {
  let buffer;
  try {
    buffer = await clip;
  } catch (error) {
    if (!voiceFailed) note(`Agent voice: ${error.message}`);
    voiceFailed = true;
    heardAfterReading();
    return;
  }
  const playback = pending.get(id);
  if (!playback) return;
  const source = audio.createBufferSource();
  source.buffer = buffer;
  source.connect(audio.destination);
  playback.source = source;
  // `stop()` ends it too; stopPlayback has removed it from `pending` first, so `played` sends nothing.
  await new Promise((resolve) => {
    source.addEventListener('ended', resolve);
    source.start();
  });
  played();
}

function stopPlayback(id) {
  const playback = pending.get(id);
  pending.delete(id);
  clearTimeout(playback?.timer);
  playback?.source?.stop();
}

/** Stops every chunk being heard or waiting to be, whichever voice speaks it. */
function silence() {
  speech?.cancel();
  for (const id of pending.keys()) stopPlayback(id);
}

function say(text) {
  line('caller', text);
  send({ type: 'transcript', text, final: true });
}

/** The browser's speech recognition: partial results barge in, the final one is the utterance. */
function listen() {
  const recognition = new Recognition();
  recognition.interimResults = true;
  recognition.lang = navigator.language || 'en-US';
  recognition.addEventListener('result', (event) => {
    const result = event.results[event.results.length - 1];
    const text = result[0].transcript.trim();
    if (!text) return;
    if (result.isFinal) say(text);
    else send({ type: 'transcript', text, final: false });
  });
  recognition.addEventListener('error', (event) => note(`Speech recognition: ${event.error}`));
  recognition.start();
}

function send(frame) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function ended(message) {
  const closing = socket;
  socket = undefined;
  call = undefined;
  closing?.close(1000);
  silence();
  status(message);
  inCall(false);
}

function inCall(on) {
  $('call').disabled = on;
  $('hangup').disabled = !on;
  for (const id of ['utterance', 'send', 'listen', 'interrupt']) $(id).disabled = !on;
  for (const button of $('keypad').querySelectorAll('button')) button.disabled = !on;
}

function line(kind, text) {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = text;
  $('conversation').append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

const note = (text) => line('event', text);
const status = (text) => {
  $('status').textContent = text;
};
