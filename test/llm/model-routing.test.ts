import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { routeModel } from '../../src/llm/router.js';

const router = loadConfig({ env: {} }).router;

describe('model routing for agents on auto', () => {
  it.each([
    // utterance, tools available, share of cost budget spent, alias
    ['I would like to book a cleaning for next Tuesday morning please.', true, 0, 'sonnet'],
    ['Can you move my appointment to Friday?', true, 0, 'sonnet'],
    ['Hello', true, 0, 'haiku'],
    ['ok thanks, bye!', true, 0, 'haiku'],
    ['Thank you so much.', false, 0, 'haiku'],
    ['Friday at ten works', true, 0, 'sonnet'],
    ['Friday at ten works', false, 0, 'haiku'],
    ['', false, 0, 'haiku'],
    ['Why was I charged twice for my last visit?', true, 0, 'opus'],
    ['Can you explain what the insurance covers?', false, 0, 'opus'],
    ['My crown is not working properly', true, 0, 'opus'],
    [`${'So basically what happened is that I came in last month and '.repeat(4)}now I am confused.`, true, 0, 'opus'],
    ['Why was I charged twice for my last visit?', true, 0.8, 'sonnet'],
    ['I would like to book a cleaning for next Tuesday morning please.', true, 0.95, 'haiku'],
    ['Hello', true, 0.99, 'haiku'],
    ['Why was I charged twice?', true, 0.5, 'opus'],
  ] as const)('%j (tools %s, %s of budget spent) → %s', (utterance, toolsAvailable, costSpentFraction, alias) => {
    expect(routeModel(router, { utterance, toolsAvailable, costSpentFraction })).toBe(alias);
  });

  it('matches keywords as whole words, not inside other words', () => {
    expect(routeModel(router, { utterance: 'Whyte Street office please', toolsAvailable: true, costSpentFraction: 0 })).toBe('sonnet');
  });

  it('routes at the word limits themselves: 40 words is complex, 6 words of chit-chat simple', () => {
    const route = (utterance: string) => routeModel(router, { utterance, toolsAvailable: true, costSpentFraction: 0 });
    const words = (count: number) => Array.from({ length: count }, (_, i) => `word${i}`).join(' ');
    expect(route(words(40))).toBe('opus');
    expect(route(words(39))).toBe('sonnet');
    // Punctuation and surrounding space separate words without counting as words.
    expect(route('  ok, thanks... bye! hi, hello -- hey  ')).toBe('haiku');
    expect(route('ok, thanks, bye, hi, hello, hey, great')).toBe('sonnet');
  });

  it('reads an empty utterance as no words, and as chit-chat when tools are available', () => {
    expect(routeModel({ ...router, simpleMaxWords: 0 }, { utterance: '', toolsAvailable: false, costSpentFraction: 0 })).toBe('haiku');
    expect(routeModel({ ...router, complexMinWords: 1 }, { utterance: '...', toolsAvailable: false, costSpentFraction: 0 })).toBe('haiku');
    expect(routeModel(router, { utterance: '', toolsAvailable: true, costSpentFraction: 0 })).toBe('haiku');
  });

  it('ignores a keyword with no letters or digits, which would match any empty utterance', () => {
    expect(routeModel({ ...router, complexKeywords: ['?!'] }, { utterance: '', toolsAvailable: false, costSpentFraction: 0 })).toBe('haiku');
  });

  it('matches the longest chit-chat phrase first, so a phrase that begins with a shorter one is still chit-chat', () => {
    const chitChat = ['good', 'good morning', 'morning all'];
    expect(routeModel({ ...router, chitChat }, { utterance: 'Good morning', toolsAvailable: true, costSpentFraction: 0 })).toBe('haiku');
    expect(routeModel({ ...router, chitChat: ['good', 'good morning'] }, { utterance: 'Good morning', toolsAvailable: true, costSpentFraction: 0 })).toBe('haiku');
  });

  it('follows the configured ladder, words and thresholds', () => {
    const custom = { ...router, defaultModel: 'haiku', complexModel: 'sonnet', simpleModel: 'haiku-3.5', complexKeywords: ['emergency'], simpleMaxWords: 2 };
    expect(routeModel(custom, { utterance: 'This is an emergency', toolsAvailable: true, costSpentFraction: 0 })).toBe('sonnet');
    expect(routeModel(custom, { utterance: 'Book Tuesday afternoon', toolsAvailable: false, costSpentFraction: 0 })).toBe('haiku');
    expect(routeModel(custom, { utterance: 'Hi', toolsAvailable: true, costSpentFraction: 0 })).toBe('haiku-3.5');
  });
});
