// The AYBIZA call inspector: the active calls, and one call live (docs/call-records.md).
// Plain ES module, no dependencies, nothing loaded from elsewhere.

const $ = (id) => document.getElementById(id);
// The softphone keeps the key under the same name, so a key typed there works here.
const KEY_STORAGE = 'aybiza.apiKey';
const LIST_REFRESH_MS = 1000;

let selected = new URLSearchParams(location.search).get('call');
let source;
let diagram;

$('key').value = sessionStorage.getItem(KEY_STORAGE) ?? '';
$('key').addEventListener('change', () => {
  sessionStorage.setItem(KEY_STORAGE, $('key').value.trim());
  refreshCalls();
  if (selected) select(selected);
});

const query = () => {
  const key = $('key').value.trim();
  return key ? `?token=${encodeURIComponent(key)}` : '';
};

async function getJson(path) {
  const response = await fetch(`${path}${query()}`);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const money = (usd) => `$${usd.toFixed(usd < 0.01 ? 5 : 3)}`;
const ms = (value) => `${Math.round(value)} ms`;

async function refreshCalls() {
  let page;
  try {
    page = await getJson('/v1/calls');
  } catch (error) {
    $('calls-status').textContent = String(error.message).endsWith('401') ? 'Type an API key to see the calls.' : error.message;
    return;
  }
  const rows = page.calls.map((call) => {
    const row = element('tr', { 'data-call-id': call.callId, class: call.callId === selected ? 'selected' : '' },
      element('td', {}, call.callId), element('td', {}, call.agent), element('td', {}, call.from ?? ''),
      element('td', {}, call.state), element('td', {}, String(call.turns)), element('td', {}, money(call.costUsd)));
    row.addEventListener('click', () => select(call.callId));
    return row;
  });
  $('calls').tBodies[0].replaceChildren(...rows);
  $('calls-status').textContent = page.calls.length === 0 ? 'No active calls.' : `${page.calls.length} active${page.nextCursor ? ' (first page)' : ''}.`;
}

async function select(callId) {
  selected = callId;
  history.replaceState(null, '', `/inspector?call=${encodeURIComponent(callId)}`);
  source?.close();
  diagram ??= await getJson('/v1/call-machine');
  source = new EventSource(`/v1/calls/${encodeURIComponent(callId)}/events${query()}`);
  source.addEventListener('record', (event) => {
    const { record } = JSON.parse(event.data);
    render(record);
    // An ended call's stream closes; reconnecting would only send the same record again.
    if (record.status === 'ended') source.close();
  });
  // Not live on this node (ended long ago, or elsewhere): the stored record, once.
  source.addEventListener('error', async () => {
    if (source.readyState === EventSource.OPEN) return;
    source.close();
    try {
      render(await getJson(`/v1/calls/${encodeURIComponent(callId)}`));
    } catch (error) {
      $('call-title').textContent = `${callId}: ${error.message}`;
      $('call').hidden = false;
    }
  });
}

function render(record) {
  $('call').hidden = false;
  $('call').dataset.status = record.status;
  $('call-title').textContent = `Call ${record.callId}`;
  const facts = [
    ['agent', record.agent], ['from', record.from ?? '—'], ['to', record.to ?? '—'], ['state', record.state],
    ['started', new Date(record.startedAt).toLocaleTimeString()], ['status', record.outcome ? `${record.status} (${record.outcome})` : record.status],
    ['tokens', `${record.usage.inputTokens} in · ${record.usage.outputTokens} out · ${record.usage.cacheReadInputTokens} cache read`],
    ['cost', money(record.costUsd)],
  ];
  $('call-facts').replaceChildren(...facts.flatMap(([name, value]) => [element('dt', {}, name), element('dd', { 'data-fact': name }, value)]));
  renderMachine(record.state);
  $('turns').replaceChildren(...record.turns.map(renderTurn));
  for (const row of $('calls').tBodies[0].rows) row.classList.toggle('selected', row.dataset.callId === record.callId);
}

/** The machine's states as nested boxes; the current one and its ancestors highlighted. */
function renderMachine(current) {
  const children = new Map();
  for (const path of diagram.states) {
    if (path === 'call') continue;
    const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : 'call';
    children.set(parent, [...(children.get(parent) ?? []), path]);
  }
  const box = (path) => {
    const isCurrent = path === current || (path === 'call' && current === '');
    const active = path === 'call' || current.startsWith(`${path}.`);
    const node = element('div', { class: `state${isCurrent ? ' current' : active ? ' active' : ''}`, 'data-state': path },
      element('div', { class: 'name' }, path.split('.').at(-1)));
    for (const child of children.get(path) ?? []) node.append(box(child));
    return node;
  };
  $('machine').replaceChildren(box('call'));
  const from = diagram.edges.filter((edge) => edge.source === current || current.startsWith(`${edge.source}.`) || edge.source === 'call');
  $('transitions').textContent = from.length === 0 ? '' : `From here: ${from.map((edge) => `${edge.event} → ${edge.target}`).join(' · ')}`;
}

function renderTurn(turn) {
  const firstRequest = turn.modelRequests[0];
  const steps = [
    ['final words', 0],
    ['history read', turn.historyReads[0]?.endMs],
    ['model request', firstRequest?.requestMs],
    ['first event', turn.modelRequests.find((request) => request.firstEventMs !== undefined)?.firstEventMs],
    ['first sentence', turn.modelRequests.find((request) => request.firstSentenceMs !== undefined)?.firstSentenceMs],
    ['first say', turn.firstSayMs],
    ['played', turn.playedMs],
  ].filter(([, at]) => at !== undefined);
  const lanes = [];
  for (const read of turn.historyReads) lanes.push(['history read', [{ kind: 'history', start: read.startMs, end: read.endMs, title: `${read.messages} messages` }]]);
  for (const request of turn.modelRequests) {
    const failed = request.outcome !== 'ok' && request.outcome !== 'streaming';
    const ticks = [request.firstEventMs, request.firstSentenceMs].filter((at) => at !== undefined);
    lanes.push([`round ${request.round} ${request.modelId.split('.').at(-1)} ${request.region}`, [{
      kind: `model${failed ? ' failed' : ''}`, start: request.requestMs, end: request.endMs, ticks,
      title: `${request.outcome}${request.stopReason ? ` (${request.stopReason})` : ''}${request.usage ? `, ${request.usage.inputTokens} in / ${request.usage.outputTokens} out` : ''}`,
    }]]);
  }
  for (const fallback of turn.fallbacks) lanes.push([`fallback ${fallback.hop}`, [{ kind: 'fallback', start: fallback.atMs, end: fallback.atMs, title: `${fallback.code}: ${fallback.from.region} → ${fallback.to?.region ?? 'canned answer'}` }]]);
  for (const tool of turn.tools) lanes.push([`tool ${tool.name}`, [{ kind: 'tool', start: tool.startMs, end: tool.endMs, title: tool.outcome }]]);
  if (turn.said.length > 0) lanes.push(['said → played', turn.said.map((chunk) => ({ kind: 'say', start: chunk.atMs, end: chunk.playedMs, title: chunk.text }))]);
  const ends = lanes.flatMap(([, bars]) => bars.flatMap((bar) => [bar.start, bar.end ?? bar.start]));
  const span = Math.max(1, turn.endedMs ?? 0, turn.playedMs ?? 0, ...ends);
  const pct = (value) => `${(100 * value) / span}%`;
  const laneNodes = lanes.map(([label, bars]) => {
    const track = element('div', { class: 'track' });
    for (const bar of bars) {
      const end = bar.end ?? span;
      const node = element('div', { class: `bar ${bar.kind}`, title: `${bar.title} · ${ms(bar.start)}–${bar.end === undefined ? '…' : ms(end)}` });
      node.style.left = pct(bar.start);
      node.style.width = pct(Math.max(0, end - bar.start));
      track.append(node);
      for (const at of bar.ticks ?? []) {
        const tick = element('div', { class: 'tick' });
        tick.style.left = pct(at);
        track.append(tick);
      }
    }
    return element('div', { class: 'lane', 'data-lane': label.split(' ')[0] }, element('span', { class: 'label', title: label }, label), track);
  });
  return element('article', { class: 'turn', 'data-turn': String(turn.turn) },
    element('p', { class: 'words' }, element('span', { class: 'who' }, `turn ${turn.turn} · caller`), turn.transcript),
    element('ol', { class: 'steps' }, ...steps.map(([name, at]) => element('li', { 'data-step': name.replaceAll(' ', '-') }, `${name} ${ms(at)}`))),
    element('div', { class: 'lanes' }, ...laneNodes),
    element('p', { class: 'words' }, element('span', { class: 'who' }, 'heard'), turn.heard || '—'),
    element('p', { class: 'cost' }, `${turn.usage.inputTokens} in · ${turn.usage.outputTokens} out · ${money(turn.costUsd)}`));
}

refreshCalls();
setInterval(refreshCalls, LIST_REFRESH_MS);
if (selected) select(selected);
