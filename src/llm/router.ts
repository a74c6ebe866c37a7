import type { RouterConfig } from '../config/schema.js';

export interface RouteInput {
  utterance: string;
  toolsAvailable: boolean;
  /** Share of the agent's cost budget already spent in this call (0 when it has none). */
  costSpentFraction: number;
}

/**
 * The model alias for a turn of an agent configured with `model: 'auto'`, from cheap signals:
 * complex asks go up the ladder, short chit-chat goes down, and a call near its cost budget steps
 * down one rung. The rules' words and thresholds are configuration.
 */
export function routeModel(router: RouterConfig, input: RouteInput): string {
  const ladder = [router.complexModel, router.defaultModel, router.simpleModel];
  const rung = ladder.indexOf(pickByUtterance(router, input));
  const stepped = input.costSpentFraction >= router.budgetStepDownFraction ? rung + 1 : rung;
  return ladder[Math.min(stepped, ladder.length - 1)]!;
}

function pickByUtterance(router: RouterConfig, { utterance, toolsAvailable }: RouteInput): string {
  const text = normalise(utterance);
  const words = text === '' ? 0 : text.split(' ').length;
  if (words >= router.complexMinWords || router.complexKeywords.some((keyword) => containsPhrase(text, normalise(keyword)))) {
    return router.complexModel;
  }
  if (words <= router.simpleMaxWords && (!toolsAvailable || isChitChat(text, router.chitChat))) return router.simpleModel;
  return router.defaultModel;
}

/** Lower case, letters/digits/apostrophes only, single spaces. */
function normalise(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' ').trim();
}

const containsPhrase = (text: string, phrase: string) => phrase !== '' && ` ${text} `.includes(` ${phrase} `);

/** Made only of chit-chat phrases, e.g. "ok thanks bye". */
function isChitChat(text: string, phrases: string[]): boolean {
  if (text === '') return true;
  const sorted = phrases.map(normalise).filter((p) => p !== '').sort((a, b) => b.length - a.length);
  let rest = text;
  while (rest !== '') {
    const match = sorted.find((phrase) => rest === phrase || rest.startsWith(`${phrase} `));
    if (!match) return false;
    rest = rest.slice(match.length).trim();
  }
  return true;
}
