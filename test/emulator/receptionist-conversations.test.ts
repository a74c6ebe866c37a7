import type { ConverseStreamOutput, Message } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT } from '../../src/config/schema.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { receptionistCall, type HeardTurn } from './receptionist-call.js';
import { sdkClient, SONNET, streamEvents, textOf } from './sdk-client.js';

/** Thursday, December 3, 2026, 07:00 at the practice (America/New_York): the emulator and the tools share this clock. */
const NOW = Date.parse('2026-12-03T12:00:00Z');
const MARIA = '+15551000000';
const ANYTHING_ELSE = 'Is there anything else I can help with?';

let emulator: RunningEmulator;
let client: ReturnType<typeof sdkClient>;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 16, now: () => NOW, script: { ttftMs: 0, tokensPerSecond: 100_000, rules: [{ receptionist: true }] } });
  client = sdkClient(emulator.url, 'http1');
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
});

type Expected = Array<{ tools?: Array<[name: string, input: object, outcome: string]>; agent: string }>;

const heardAs = (heard: HeardTurn[]): Expected =>
  heard.map((turn) => ({ ...(turn.tools.length ? { tools: turn.tools.map((tool) => [tool.name, tool.input as object, tool.outcome] as [string, object, string]) } : {}), agent: turn.agent }));

/**
 * Whole calls against the real built-in tools: each caller line, the tools the receptionist used
 * with the inputs it filled and how they came out, and its exact words.
 */
const CALLS: Array<{ name: string; lines: string[]; expected: Expected; from?: string | null }> = [
  {
    name: 'asks for the missing day, remembers the reason and the week, books, and says honestly when the tool refuses a date',
    lines: ['Hi, can I book a cleaning next week?', 'Tuesday afternoon, if you have anything. This is Sam Carter.', 'Can you also book a check-up for my son on February 30th at ten?', "Oh, never mind. That's all, bye."],
    expected: [
      { agent: 'I can book a cleaning next week. Which day suits you, and would you prefer morning or afternoon?' },
      {
        tools: [['book_appointment', { date: '2026-12-08', time: '12:00', reason: 'cleaning', name: 'Sam Carter' }, 'success']],
        agent: `You're booked for a cleaning on Tuesday, December 8 at 12 p.m. under the name Sam Carter. ${ANYTHING_ELSE}`,
      },
      {
        tools: [['book_appointment', { date: '2027-02-30', time: '10:00', reason: 'check-up' }, 'invalid_input']],
        agent: "I'm sorry, I couldn't book that. The booking system said: date February 30, 2027 is not a calendar date. Which date did you mean?",
      },
      { agent: 'Thanks for calling Harbor Dental. Goodbye!' },
    ],
  },
  {
    name: 'answers an availability question about a morning by asking what the visit is for, then books the first free time in it',
    lines: ['Do you have anything on Tuesday morning?', "It's for a cleaning."],
    expected: [
      { agent: 'I can book an appointment on Tuesday, December 8 in the morning. What is the visit for?' },
      {
        tools: [['book_appointment', { date: '2026-12-08', time: '08:00', reason: 'cleaning' }, 'success']],
        agent: `You're booked for a cleaning on Tuesday, December 8 at 8 a.m. under the name Maria Lopez. ${ANYTHING_ELSE}`,
      },
    ],
  },
  {
    name: 'moves on to the next free time within the part of the day asked for when the first is taken',
    lines: ['Can I book a cleaning this morning?'],
    expected: [{
      tools: [
        ['book_appointment', { date: '2026-12-03', time: '08:00', reason: 'cleaning' }, 'success'],
        ['book_appointment', { date: '2026-12-03', time: '09:30', reason: 'cleaning' }, 'success'],
      ],
      agent: `That time is already taken, so I'll try 9:30 a.m. You're booked for a cleaning on Thursday, December 3 at 9:30 a.m. under the name Maria Lopez. ${ANYTHING_ELSE}`,
    }],
  },
  {
    name: 'offers the free times the calendar gives for a taken slot and books the one the caller picks',
    lines: ['I need a filling appointment today at 8.', 'The second one, please.'],
    expected: [
      {
        tools: [['book_appointment', { date: '2026-12-03', time: '08:00', reason: 'filling' }, 'success']],
        agent: 'That time is already taken. The nearest free times are Thursday, December 3 at 9:30 a.m., Thursday, December 3 at 10 a.m. and Thursday, December 3 at 10:30 a.m. Would one of those suit you?',
      },
      {
        tools: [['book_appointment', { date: '2026-12-03', time: '10:00', reason: 'filling' }, 'success']],
        agent: `You're booked for a filling on Thursday, December 3 at 10 a.m. under the name Maria Lopez. ${ANYTHING_ELSE}`,
      },
    ],
  },
  {
    name: 'speaks the reason a closed day was refused and asks again when the caller wants none of the offers',
    lines: ['Book me a check-up on December 25th at 10am.', 'No, none of those.'],
    expected: [
      {
        tools: [['book_appointment', { date: '2026-12-25', time: '10:00', reason: 'check-up' }, 'success']],
        agent: 'The practice is closed that day. The nearest free times are Saturday, December 26 at 8 a.m., Saturday, December 26 at 8:30 a.m. and Saturday, December 26 at 9 a.m. Would one of those suit you?',
      },
      { agent: 'I can book a check-up. Which day suits you, and would you prefer morning or afternoon?' },
    ],
  },
  {
    name: 'remembers a phone number said while booking and looks the account up by it later',
    lines: ['Can I come in next Tuesday at 10:30 for a filling? My number is (555) 100-0002', 'What about my account?'],
    expected: [
      {
        tools: [['book_appointment', { date: '2026-12-08', time: '10:30', reason: 'filling' }, 'success']],
        agent: `You're booked for a filling on Tuesday, December 8 at 10:30 a.m. under the name Maria Lopez. ${ANYTHING_ELSE}`,
      },
      {
        tools: [['lookup_customer', { identifier: '+15551000002' }, 'success']],
        agent: 'Thanks, Aisha. I have your record: your account is open with a balance of 45 dollars due. Your next appointment is a filling on Thursday, December 3 at 11 a.m. What can I do for you?',
      },
    ],
  },
  {
    name: 'looks the caller up by the number they call from, answers questions from the knowledge base, transfers on request',
    lines: ['Can I check my account balance?', 'What is your cancellation policy?', 'blorp', 'I want to talk to a person'],
    expected: [
      {
        tools: [['lookup_customer', { identifier: MARIA }, 'success']],
        agent: 'Thanks, Maria. I have your record: your account is in good standing. Your next appointment is a cleaning on Thursday, December 3 at 8 a.m. What can I do for you?',
      },
      {
        tools: [['search_knowledge', { query: 'What is your cancellation policy?' }, 'success']],
        agent: `Please give at least twenty-four hours' notice to cancel or reschedule. Cancellations with less notice, and missed appointments, carry a twenty-five dollar fee. ${ANYTHING_ELSE}`,
      },
      { agent: "Sorry, I didn't understand that. I can book an appointment, look up your account, answer questions about the practice or put you through to the front desk. What would you like to do?" },
      {
        tools: [['transfer_call', { to: 'front-desk', reason: 'the caller asked for a person' }, 'success']],
        agent: "Of course. I'm transferring you to the front desk now.",
      },
    ],
  },
  {
    name: 'asks again which offered time the caller wants when the answer picks none of them',
    lines: ['I need a filling appointment today at 8.', 'This is Sam Carter.'],
    expected: [
      {
        tools: [['book_appointment', { date: '2026-12-03', time: '08:00', reason: 'filling' }, 'success']],
        agent: 'That time is already taken. The nearest free times are Thursday, December 3 at 9:30 a.m., Thursday, December 3 at 10 a.m. and Thursday, December 3 at 10:30 a.m. Would one of those suit you?',
      },
      { agent: 'Which of these would suit you: Thursday, December 3 at 9:30 a.m., Thursday, December 3 at 10 a.m. or Thursday, December 3 at 10:30 a.m.?' },
    ],
  },
  {
    name: 'asks what to look the account up by when the call has no number, and uses the email it is given',
    from: null,
    lines: ['Can I check my account?', "It's maria.lopez@example.com"],
    expected: [
      { agent: 'What phone number or email address is the account under?' },
      {
        tools: [['lookup_customer', { identifier: 'maria.lopez@example.com' }, 'success']],
        agent: 'Thanks, Maria. I have your record: your account is in good standing. Your next appointment is a cleaning on Thursday, December 3 at 8 a.m. What can I do for you?',
      },
    ],
  },
  {
    name: 'thanks a caller by name when they only say who they are',
    lines: ['Can I book a cleaning on December 14th at 11?', 'My name is Alex Kim.'],
    from: null,
    expected: [
      {
        tools: [['book_appointment', { date: '2026-12-14', time: '11:00', reason: 'cleaning' }, 'success']],
        agent: `You're booked for a cleaning on Monday, December 14 at 11 a.m. ${ANYTHING_ELSE}`,
      },
      { agent: `Thank you, Alex Kim. ${ANYTHING_ELSE}` },
    ],
  },
  {
    name: 'says plainly what it cannot do when the agent declares no tools',
    lines: ['Hello?', 'Can I book a cleaning tomorrow at 9?', 'When are you open?', 'Thanks!'],
    expected: [
      { agent: "Hello, you've reached Harbor Dental. How can I help?" },
      { agent: "I'm sorry, I can't book appointments on this line." },
      { agent: "I'm sorry, I can't look that up on this line." },
      { agent: `You're welcome. ${ANYTHING_ELSE}` },
    ],
  },
];

describe('the emulator receptionist over the real SDK', () => {
  it.each(CALLS)('$name', async ({ name, lines, expected, from }) => {
    const tools = name.includes('no tools') ? [] : DEFAULT_AGENT.tools;
    const caller = from === null ? {} : { from: from ?? MARIA };
    const heard = await receptionistCall(lines, { client, nowMs: NOW, callId: name.slice(0, 40).replace(/\W/g, '-'), tools, ...caller });
    expect(heardAs(heard)).toEqual(expected);
  });

  it('reads a phone number said as words', async () => {
    const heard = await receptionistCall(['Can you look up my account? My number is five five five, one zero zero, zero zero zero one.'], { client, nowMs: NOW, callId: 'spoken-number', tools: ['lookup_customer'] });
    expect(heard[0]?.tools).toEqual([{ name: 'lookup_customer', input: { identifier: '+15551000001' }, outcome: 'success' }]);
    expect(heard[0]?.agent).toMatch(/^Thanks, James\./);
  });

  it('says a lookup the agent\'s policy refuses was refused, with the reason', async () => {
    const policy = { transferTargets: ['front-desk'], lookupAnyCustomer: false, emailRecipients: [] };
    const heard = await receptionistCall(['Look up the account for 555-100-0003 please.'], { client, nowMs: NOW, callId: 'policy', from: MARIA, policy });
    expect(heardAs(heard)).toEqual([{
      tools: [['lookup_customer', { identifier: '+15551000003' }, 'refused']],
      agent: `I'm sorry, I couldn't look up the account. The system said: this agent may only look up the record of the number the call comes from. ${ANYTHING_ELSE}`,
    }]);
  });
});

describe('the receptionist with thinking on', () => {
  it('reasons first, saying what the booking still needs, then asks for it', async () => {
    const { events, error } = await streamEvents(client, {
      modelId: SONNET,
      messages: [{ role: 'user', content: [{ text: 'Can I book a cleaning next week?' }] }],
      inferenceConfig: { maxTokens: 4_096 },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1_024 } },
      toolConfig: { tools: [{ toolSpec: { name: 'book_appointment', inputSchema: { json: { type: 'object', properties: { date: {}, time: {}, reason: {} }, required: ['date', 'time', 'reason'] } } } }] },
    });
    expect(error).toBeUndefined();
    const reasoning = events.map((event) => event.contentBlockDelta?.delta?.reasoningContent?.text ?? '').join('');
    const answer = 'I can book a cleaning next week. Which day suits you, and would you prefer morning or afternoon?';
    expect(reasoning).toBe(`The booking still needs: date, time. I answer: "${answer}"`);
    expect(textOf(events)).toBe(answer);
  });
});

/** The one tool use's input, reassembled from its deltas. */
const toolInputOf = (events: ConverseStreamOutput[]): unknown =>
  JSON.parse(events.flatMap((event) => (event.contentBlockDelta?.delta?.toolUse ? [event.contentBlockDelta.delta.toolUse.input] : [])).join(''));

/** The first request of a call: the booking input the receptionist fills from one utterance. */
const BOOKINGS: Array<[said: string, input: object]> = [
  ['Book a cleaning next Tuesday morning', { date: '2026-12-08', time: '08:00', reason: 'cleaning' }],
  ['Book a cleaning tomorrow at 3', { date: '2026-12-04', time: '15:00', reason: 'cleaning' }],
  ['Book a cleaning on December 10th at half past nine', { date: '2026-12-10', time: '09:30', reason: 'cleaning' }],
  ['Book a cleaning on the 15th at 2:30 pm', { date: '2026-12-15', time: '14:30', reason: 'cleaning' }],
  ['Book a cleaning on the 1st at 9am', { date: '2027-01-01', time: '09:00', reason: 'cleaning' }],
  ["Book a cleaning for Monday at ten o'clock", { date: '2026-12-07', time: '10:00', reason: 'cleaning' }],
  ['Book a cleaning the day after tomorrow at noon', { date: '2026-12-05', time: '12:00', reason: 'cleaning' }],
  ['Book a cleaning on 2 March at 11am', { date: '2027-03-02', time: '11:00', reason: 'cleaning' }],
  ['Book a cleaning next week on Wednesday afternoon', { date: '2026-12-09', time: '12:00', reason: 'cleaning' }],
  ['Book a cleaning Thursday evening', { date: '2026-12-10', time: '17:00', reason: 'cleaning' }],
  ['My tooth hurts, can I come in tomorrow around 8?', { date: '2026-12-04', time: '08:00', reason: 'toothache' }],
  ['My name is Ana Silva, book a check-up on Friday at 9', { date: '2026-12-04', time: '09:00', reason: 'check-up', name: 'Ana Silva' }],
  ['Is 10 a.m. on Tuesday free for a cleaning?', { date: '2026-12-08', time: '10:00', reason: 'cleaning' }],
  ['Book my daughter Lily for a filling on Monday at 4 pm', { date: '2026-12-07', time: '16:00', reason: 'filling', name: 'Lily' }],
];

describe('slots the receptionist fills from what the caller said (today: Thursday, December 3, 2026)', () => {
  const toolConfig = { tools: [{ toolSpec: { name: 'book_appointment', inputSchema: { json: { type: 'object', properties: { date: {}, time: {}, reason: {}, name: {} }, required: ['date', 'time', 'reason'] } } } }] };
  it.each(BOOKINGS)('%s', async (said, input) => {
    const { events, error } = await streamEvents(client, { modelId: SONNET, messages: [{ role: 'user', content: [{ text: said }] }], toolConfig });
    expect(error).toBeUndefined();
    expect(toolInputOf(events)).toEqual(input);
  });

  it('takes "today" from a date the agent\'s prompt states rather than the clock', async () => {
    const { events } = await streamEvents(client, {
      modelId: SONNET,
      system: [{ text: 'You are the receptionist of Harbor Dental. Today is 2026-06-01.' }],
      messages: [{ role: 'user', content: [{ text: 'Book a cleaning next Tuesday at 9' }] }],
      toolConfig,
    });
    expect(toolInputOf(events)).toEqual({ date: '2026-06-09', time: '09:00', reason: 'cleaning' });
  });

  it('sends only the properties a tool\'s schema declares, and asks for a required one it does not know', async () => {
    const narrow = { tools: [{ toolSpec: { name: 'book_appointment', inputSchema: { json: { type: 'object', properties: { date: {}, time: {}, reason: {}, insurer: {} }, required: ['date', 'time', 'reason', 'insurer'] } } } }] };
    const { events } = await streamEvents(client, { modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'My name is Ana Silva, book a cleaning on Friday at 9' }] }], toolConfig: narrow });
    expect(textOf(events)).toBe('I can book a cleaning on Friday, December 4 at 9 a.m. What insurer should I put down?');
  });
});

/** Replies to results the runtime sends back, whatever the tool: each failure is said as a failure. */
const RESULTS: Array<[name: string, input: object, status: 'success' | 'error', content: object, reply: string]> = [
  ['book_appointment', { date: '2026-12-08', time: '10:00', reason: 'cleaning' }, 'error', { error: 'book_appointment did not answer within 3000 ms.' },
    "I'm sorry, I couldn't book that. The booking system said: it did not answer in time. Shall I try a different day or time?"],
  ['book_appointment', { date: '2026-12-08', time: '25:00', reason: 'cleaning' }, 'error', { error: 'Invalid input for book_appointment: /time must match pattern "^([01]\\d|2[0-3]):[0-5]\\d$"' },
    "I'm sorry, I couldn't book that. The booking system said: /time must match pattern ^([01]\\d|2[0-3]):[0-5]\\d$. What time did you mean?"],
  ['book_appointment', { date: '2026-12-03', time: '07:00', reason: 'cleaning' }, 'success', { booked: false, reason: 'past', message: 'That time has already passed.', alternatives: [] },
    "That time has already passed. I couldn't find a free time after it. Would another day suit you?"],
  ['lookup_customer', { identifier: '+15559999999' }, 'success', { found: false, message: 'No patient record matches that phone.' },
    "I couldn't find a patient record under that phone number. Could you give me the email address or customer id on the account?"],
  ['search_knowledge', { query: 'Do you do implants?' }, 'success', { results: [], message: 'Nothing in the knowledge base matches.' },
    "I'm sorry, I don't have anything on that. I can put you through to the front desk if you like."],
  ['transfer_call', { to: 'billing' }, 'error', { error: 'Refused by policy: Transfer target billing is not allowed.' },
    `I'm sorry, I couldn't transfer you. The system said: Transfer target billing is not allowed. ${ANYTHING_ELSE}`],
  ['send_email', { to: 'ana@example.com' }, 'error', { error: 'send_email failed: mailbox unavailable' },
    `I'm sorry, I couldn't do that. The system said: mailbox unavailable. ${ANYTHING_ELSE}`],
];

describe('replies to tool results', () => {
  const tools = ['book_appointment', 'lookup_customer', 'search_knowledge', 'transfer_call', 'send_email'].map((name) => ({ toolSpec: { name, inputSchema: { json: { type: 'object' } } } }));
  it.each(RESULTS)('%s %s (%s) → %s', async (name, input, status, content, reply) => {
    const messages: Message[] = [
      { role: 'user', content: [{ text: 'Please help.' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name, input: input as never } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', status, content: [{ json: content as never }] } }] },
    ];
    const { events, error } = await streamEvents(client, { modelId: SONNET, messages, toolConfig: { tools } });
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe(reply);
  });
});
