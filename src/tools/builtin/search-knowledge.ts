import type { ToolDefinition } from '../types.js';
import type { KnowledgeArticle } from './fixtures.js';

const STOPWORDS = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'can', 'do', 'does', 'for', 'from', 'how', 'i', 'if', 'in', 'is', 'it',
  'me', 'my', 'of', 'on', 'or', 'our', 'so', 'that', 'the', 'to', 'we', 'what', 'when', 'where', 'which', 'with', 'you', 'your',
]);

const WEIGHT = { title: 3, tag: 2, body: 1 } as const;
/** A word repeated in a long article should not outweigh a match in its title. */
const MAX_BODY_HITS = 2;

export interface KnowledgeHit { id: string; title: string; answer: string; score: number }

/** Lower-case words without stopwords, with a plural `s` removed. */
export function terms(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1 && !STOPWORDS.has(word))
    .map((word) => (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word));
}

/** `cancel` finds `cancellation`: a shared prefix of four letters or more counts as a match. */
const matches = (term: string, word: string): boolean =>
  term === word || (Math.min(term.length, word.length) >= 4 && (word.startsWith(term) || term.startsWith(word)));

/** Articles ranked by weighted keyword matches in title, tags and body; only those that match at all. */
export function searchKnowledge(articles: KnowledgeArticle[], query: string, limit: number): KnowledgeHit[] {
  const wanted = [...new Set(terms(query))];
  if (wanted.length === 0) return [];
  return articles
    .map((article, order) => {
      const title = terms(article.title);
      const tags = article.tags.flatMap(terms);
      const body = terms(article.body);
      const score = wanted.reduce((sum, term) =>
        sum
        + (title.some((word) => matches(term, word)) ? WEIGHT.title : 0)
        + (tags.some((word) => matches(term, word)) ? WEIGHT.tag : 0)
        + Math.min(MAX_BODY_HITS, body.filter((word) => matches(term, word)).length) * WEIGHT.body, 0);
      return { hit: { id: article.id, title: article.title, answer: article.body, score }, order };
    })
    .filter(({ hit }) => hit.score > 0)
    .sort((a, b) => b.hit.score - a.hit.score || a.order - b.order)
    .slice(0, limit)
    .map(({ hit }) => hit);
}

export function createSearchKnowledgeTool(articles: KnowledgeArticle[]): ToolDefinition {
  return {
    name: 'search_knowledge',
    description:
      "Search Harbor Dental's knowledge base (policies, hours, prices, insurance, payment, accessibility). "
      + 'Returns the best matching articles; answer from them, briefly.',
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string', minLength: 1, maxLength: 500, description: 'What the caller wants to know, in a few words.' } },
      required: ['query'],
      additionalProperties: false,
    },
    timeoutMs: 2_000,
    filler: 'Let me check that for you.',
    async run(input) {
      const results = searchKnowledge(articles, String(input.query), 3);
      return {
        result: results.length > 0
          ? { results }
          : { results: [], message: 'Nothing in the knowledge base matches. Offer to take a message or transfer the caller to the front desk.' },
      };
    },
  };
}
