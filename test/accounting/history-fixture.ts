import type { ChatMessage } from '../../src/llm/messages.js';

/**
 * A long call's history of about `tokens` Claude tokens: caller turns, tool rounds and answers,
 * with varied words so the tokenizer cannot take shortcuts on repeated text.
 */
export function longHistory(tokens: number): ChatMessage[] {
  const words = ['appointment', 'Tuesday', 'insurance', 'parking', 'receptionist', 'cancel', 'reschedule', 'address', 'policy', 'refund', 'order', 'delivery'];
  const sentence = (seed: number): string =>
    `${Array.from({ length: 24 }, (_, i) => words[(seed * 7 + i * 3) % words.length]).join(' ')} #${seed}.`;
  const history: ChatMessage[] = [];
  let approx = 0;
  for (let turn = 0; approx < tokens; turn++) {
    const text = Array.from({ length: 6 }, (_, i) => sentence(turn * 6 + i)).join(' ');
    history.push({ role: 'user', content: [{ text }] });
    history.push({ role: 'assistant', content: [{ toolUse: { toolUseId: `t${turn}`, name: 'lookup', input: { turn, query: text.slice(0, 40) } } }] });
    history.push({ role: 'user', content: [{ toolResult: { toolUseId: `t${turn}`, content: [{ json: { turn, rows: [text.slice(0, 200)] } }], status: 'success' } }] });
    history.push({ role: 'assistant', content: [{ text }] });
    approx += Math.ceil((text.length * 2 + 300) / 4.4);
  }
  return history;
}
