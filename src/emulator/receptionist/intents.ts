/**
 * What the caller wants from one utterance, by keyword rules tried in order (the first that matches
 * wins): asking for a person beats everything, a goodbye ends the call, then the tasks.
 */
export type Intent = 'transfer' | 'goodbye' | 'account' | 'book' | 'question' | 'greeting' | 'thanks';

const RULES: Array<[Intent, RegExp]> = [
  ['transfer', /\b(a person|a human|someone|somebody|a receptionist|front desk|an operator|real person|transfer me|put me through)\b/],
  ['goodbye', /\b(bye|goodbye|that's all|that is all|that's everything|that's it|nothing else|no thanks|no, thanks|hang up)\b/],
  ['account', /\b(my account|account|balance|do i owe|look me up|my details|my record)\b/],
  ['book', /\b(book|booking|appointment|schedule|reschedule|come in|see (?:a|the) dentist|availability|available|openings?|free slot|slot|anything (?:on|for|free|left)|any time)\b/],
  ['greeting', /^(hi|hello|hey|good (?:morning|afternoon|evening))\b[\s,!.]*(there)?[\s,!.?]*$/],
  ['question', /\?|\b(hours|open|close|closed|insurance|cancel|cancellation|policy|price|cost|how much|park|parking|wheelchair|pay|payment|instalments?|installments?|billing|records|x-rays?|children|kids|sedation|emergency|emergencies)\b/],
  ['thanks', /\b(thanks|thank you|great|perfect|wonderful)\b/],
];

export function intentOf(text: string): Intent | undefined {
  const lower = text.toLowerCase().trim();
  return RULES.find(([, pattern]) => pattern.test(lower))?.[0];
}
