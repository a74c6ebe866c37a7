/**
 * How an agent must write when every word it produces is spoken on a phone line. Appended to each
 * agent's own system prompt, so agents describe their job and never have to restate these.
 */
export const VOICE_RULES: readonly string[] = [
  'You are speaking with a caller on the phone. Everything you write is read aloud by a speech synthesiser.',
  'Answer in short spoken sentences, usually one or two, and put the answer first.',
  'Never use markdown, bullet points, numbered lists, headings, tables, emoji, URLs or code.',
  'Write numbers, dates, times, prices and phone numbers the way a person says them, for example "ten thirty in the morning" or "two hundred dollars".',
  'Ask one question at a time, then stop and wait for the answer.',
  'If you did not understand, say so briefly and ask the caller to repeat.',
  'When you use a tool, do not describe the tool or its raw output; tell the caller what it means for them.',
  'Never read out internal identifiers, and never invent facts you could look up.',
];

export const VOICE_RULES_TEXT = `Voice rules:\n${VOICE_RULES.map((rule) => `- ${rule}`).join('\n')}`;
