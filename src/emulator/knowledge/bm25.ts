import type { Passage } from './documents.js';

const STOPWORDS = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'can', 'do', 'does', 'for', 'from', 'how', 'i', 'if', 'in', 'is', 'it',
  'me', 'my', 'of', 'on', 'or', 'our', 'so', 'that', 'the', 'to', 'we', 'what', 'when', 'where', 'which', 'with', 'you', 'your',
]);

/** Okapi BM25's usual constants: term-frequency saturation and length normalisation. */
const K1 = 1.2;
const B = 0.75;
/** BM25 scores are unbounded; `1 - e^(-s/SCALE)` maps them to the 0–1 relevance both services report. */
const SCALE = 6;

/** Lower-case words without stopwords, cut to a crude stem so "cancel", "cancels" and "cancellation" meet. */
export function analyze(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1 && !STOPWORDS.has(word))
    .map((word) => (word.length > 6 ? word.slice(0, 6) : word.endsWith('s') && word.length > 3 ? word.slice(0, -1) : word));
}

export interface RankedPassage { passage: Passage; bm25: number; score: number }

export interface PassageIndex { search(query: string, limit: number): RankedPassage[] }

/** BM25 over passages (title, text and keywords); only passages sharing a term with the query are returned. */
export function indexPassages(passages: Passage[]): PassageIndex {
  const documents = passages.map((passage) => {
    const terms = analyze(`${passage.title} ${passage.text} ${passage.keywords.join(' ')}`);
    const frequencies = new Map<string, number>();
    for (const term of terms) frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
    return { passage, length: terms.length, frequencies };
  });
  const averageLength = documents.reduce((sum, document) => sum + document.length, 0) / Math.max(1, documents.length);
  const containing = new Map<string, number>();
  for (const document of documents) for (const term of document.frequencies.keys()) containing.set(term, (containing.get(term) ?? 0) + 1);
  const idf = (term: string) => {
    const n = containing.get(term) ?? 0;
    return Math.log(1 + (documents.length - n + 0.5) / (n + 0.5));
  };
  return {
    search(query, limit) {
      const terms = [...new Set(analyze(query))];
      return documents
        .map((document, order) => {
          const bm25 = terms.reduce((sum, term) => {
            const tf = document.frequencies.get(term) ?? 0;
            return tf === 0 ? sum : sum + idf(term) * (tf * (K1 + 1)) / (tf + K1 * (1 - B + B * document.length / averageLength));
          }, 0);
          return { passage: document.passage, bm25, score: 1 - Math.exp(-bm25 / SCALE), order };
        })
        .filter((ranked) => ranked.bm25 > 0)
        .sort((a, b) => b.bm25 - a.bm25 || a.order - b.order)
        .slice(0, limit)
        .map(({ passage, bm25, score }) => ({ passage, bm25, score }));
    },
  };
}
