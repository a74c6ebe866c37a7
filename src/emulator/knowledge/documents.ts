import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** One retrievable piece of a document, as both services return passages rather than whole documents. */
export interface Passage {
  /** `documentId-n`, unique in the corpus. */
  id: string;
  documentId: string;
  title: string;
  uri: string;
  text: string;
  /** Words that index the passage beyond its text (an article's tags). */
  keywords: string[];
}

interface Article { id: string; title: string; tags?: string[]; body: string }

/**
 * The documents of a folder as passages: `knowledge.json` (the fixture knowledge base: `articles`
 * of id, title, tags and body, one passage each) and every `.md` or `.txt` file (titled by its
 * first `# ` line or its name, one passage per paragraph). URIs are `uriPrefix` + file (+ `#id`).
 */
export function loadPassages(dir: string, uriPrefix: string): Passage[] {
  if (!existsSync(dir)) throw new Error(`knowledge documents folder ${dir} does not exist`);
  const passages: Passage[] = [];
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    if (file === 'knowledge.json') {
      const { articles } = JSON.parse(readFileSync(path, 'utf8')) as { articles: Article[] };
      for (const article of articles) {
        passages.push({ id: `${article.id}-1`, documentId: article.id, title: article.title, uri: `${uriPrefix}${file}#${article.id}`, text: article.body, keywords: article.tags ?? [] });
      }
    } else if (/\.(md|txt)$/.test(file)) {
      const lines = readFileSync(path, 'utf8').split(/\r?\n/);
      const heading = lines.find((line) => line.startsWith('# '));
      const title = heading ? heading.slice(2).trim() : basename(file).replace(/\.(md|txt)$/, '');
      const documentId = file.replace(/\.(md|txt)$/, '');
      const paragraphs = lines.filter((line) => line !== heading).join('\n').split(/\n\s*\n/).map((paragraph) => paragraph.replace(/\s+/g, ' ').trim()).filter(Boolean);
      paragraphs.forEach((text, index) => {
        passages.push({ id: `${documentId}-${index + 1}`, documentId, title, uri: `${uriPrefix}${file}`, text, keywords: [] });
      });
    }
  }
  if (passages.length === 0) throw new Error(`knowledge documents folder ${dir} has no knowledge.json, .md or .txt documents`);
  return passages;
}
