import { randomUUID } from 'node:crypto';
import { createDualProtocolServer, type AnyRequest, type AnyResponse } from '../dual-protocol.js';
import { listenOn } from '../listen.js';
import { BodyTooLargeError, readCappedBody } from '../read-body.js';
import { indexPassages, type RankedPassage } from './bm25.js';
import { loadPassages } from './documents.js';
import { KENDRA_STATUS, KNOWLEDGE_BASE_STATUS, KnowledgeError, type KnowledgeErrorType } from './knowledge-errors.js';

export interface KnowledgeEmulatorOptions {
  host?: string;
  port?: number;
  /** Folder of documents (knowledge.json, .md, .txt): src/emulator/knowledge/documents.ts. */
  documentsDir: string;
  /** Kendra index ids served; others are ResourceNotFoundException. */
  indexIds?: string[];
  /** Knowledge base ids served; others are ResourceNotFoundException. */
  knowledgeBaseIds?: string[];
  /** Prefix of every document URI. Default `s3://aybiza-knowledge/`. */
  uriPrefix?: string;
}

export interface RetrievalRecord { api: 'kendra' | 'bedrock-kb'; id: string; query: string; results: number; outcome: string }

export interface RunningKnowledgeEmulator {
  url: string;
  port: number;
  retrievals(): RetrievalRecord[];
  /** The next `count` Retrieve requests (either API) fail with `type`, e.g. ThrottlingException. */
  failNext(type: KnowledgeErrorType, count?: number): void;
  close(): Promise<void>;
}

/** Ids of the fixture knowledge base: a Kendra index id is 36 characters, a knowledge base id 10. */
export const DEFAULT_INDEX_ID = '00000000-0000-4000-8000-00000000a1b2';
export const DEFAULT_KNOWLEDGE_BASE_ID = 'HARBORKB01';

const MAX_BODY_BYTES = 256 * 1024;
const KENDRA_TARGET = 'AWSKendraFrontendService.Retrieve';
const KB_PATH = /^\/knowledgebases\/([^/]+)\/retrieve$/;
/** Kendra Retrieve returns up to 10 passages by default, 100 at most; Knowledge Bases 5 by default. */
const KENDRA_PAGE = { default: 10, max: 100 };
const KB_RESULTS = { default: 5, max: 100 };

/** Kendra reports no numeric score from Retrieve, only a confidence bucket. */
function confidenceOf(score: number): string {
  if (score >= 0.75) return 'VERY_HIGH';
  if (score >= 0.5) return 'HIGH';
  if (score >= 0.25) return 'MEDIUM';
  return 'LOW';
}

/**
 * Amazon Kendra `Retrieve` (awsJson1_1 at `/`, `X-Amz-Target: AWSKendraFrontendService.Retrieve`) and
 * Amazon Bedrock Knowledge Bases `Retrieve` (`POST /knowledgebases/{id}/retrieve`) over one HTTP/1.1
 * port, both answering from the same folder of documents ranked with BM25 over passages.
 */
export async function startKnowledgeEmulator(options: KnowledgeEmulatorOptions): Promise<RunningKnowledgeEmulator> {
  const index = indexPassages(loadPassages(options.documentsDir, options.uriPrefix ?? 's3://aybiza-knowledge/'));
  const indexIds = new Set(options.indexIds ?? [DEFAULT_INDEX_ID]);
  const knowledgeBaseIds = new Set(options.knowledgeBaseIds ?? [DEFAULT_KNOWLEDGE_BASE_ID]);
  const records: RetrievalRecord[] = [];
  const injected: KnowledgeErrorType[] = [];

  const parse = (body: string): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(body || '{}');
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw new KnowledgeError('ValidationException', 'The request body is not a JSON object');
  };
  const queryOf = (text: unknown, path: string): string => {
    if (typeof text !== 'string' || text.length < 1 || text.length > 1000) {
      throw new KnowledgeError('ValidationException', `1 validation error detected: Value at '${path}' failed to satisfy constraint: Member must have length between 1 and 1000`);
    }
    return text;
  };
  const limitOf = (value: unknown, bounds: { default: number; max: number }, path: string): number => {
    if (value === undefined) return bounds.default;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > bounds.max) {
      throw new KnowledgeError('ValidationException', `1 validation error detected: Value '${String(value)}' at '${path}' failed to satisfy constraint: Member must have value between 1 and ${bounds.max}`);
    }
    return value as number;
  };
  const takeInjected = () => {
    const type = injected.shift();
    if (type) throw new KnowledgeError(type, type === 'ThrottlingException' ? 'Rate exceeded' : `Injected ${type}`);
  };

  const kendra = (body: Record<string, unknown>, record: RetrievalRecord): unknown => {
    const indexId = String(body.IndexId ?? '');
    record.id = indexId;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9-]{35}$/.test(indexId)) {
      throw new KnowledgeError('ValidationException', `1 validation error detected: Value '${indexId}' at 'indexId' failed to satisfy constraint: Member must have length 36 and match [a-zA-Z0-9][a-zA-Z0-9-]*`);
    }
    const query = queryOf(body.QueryText, 'queryText');
    record.query = query;
    const pageSize = limitOf(body.PageSize, KENDRA_PAGE, 'pageSize');
    if (!indexIds.has(indexId)) throw new KnowledgeError('ResourceNotFoundException', `Index ${indexId} does not exist.`);
    takeInjected();
    const ranked = index.search(query, pageSize);
    record.results = ranked.length;
    return {
      QueryId: randomUUID(),
      ResultItems: ranked.map(({ passage, score }) => ({
        Id: `${randomUUID()}-${passage.id}`,
        DocumentId: passage.documentId,
        DocumentTitle: passage.title,
        Content: passage.text,
        DocumentURI: passage.uri,
        DocumentAttributes: [{ Key: '_source_uri', Value: { StringValue: passage.uri } }],
        ScoreAttributes: { ScoreConfidence: confidenceOf(score) },
      })),
    };
  };

  const knowledgeBase = (knowledgeBaseId: string, body: Record<string, unknown>, record: RetrievalRecord): unknown => {
    record.id = knowledgeBaseId;
    if (!/^[0-9a-zA-Z]{1,10}$/.test(knowledgeBaseId)) {
      throw new KnowledgeError('ValidationException', `1 validation error detected: Value '${knowledgeBaseId}' at 'knowledgeBaseId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z]+`);
    }
    const query = queryOf((body.retrievalQuery as { text?: unknown } | undefined)?.text, 'retrievalQuery.text');
    record.query = query;
    const vector = (body.retrievalConfiguration as { vectorSearchConfiguration?: { numberOfResults?: unknown } } | undefined)?.vectorSearchConfiguration;
    const limit = limitOf(vector?.numberOfResults, KB_RESULTS, 'retrievalConfiguration.vectorSearchConfiguration.numberOfResults');
    if (!knowledgeBaseIds.has(knowledgeBaseId)) throw new KnowledgeError('ResourceNotFoundException', `Knowledge base with id ${knowledgeBaseId} does not exist`);
    takeInjected();
    const ranked = index.search(query, limit);
    record.results = ranked.length;
    return { retrievalResults: ranked.map(kbResult) };
  };

  const handle = async (request: AnyRequest, response: AnyResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0]!;
    const target = request.headers['x-amz-target'];
    const kbMatch = KB_PATH.exec(path);
    const api = kbMatch ? 'bedrock-kb' as const : 'kendra' as const;
    const record: RetrievalRecord = { api, id: '', query: '', results: 0, outcome: 'pending' };
    try {
      if (request.method !== 'POST' || (!kbMatch && (path !== '/' || target !== KENDRA_TARGET))) {
        throw new KnowledgeError('ValidationException', `No operation at ${request.method} ${path}${target ? ` (${String(target)})` : ''}`);
      }
      records.push(record);
      let text: string;
      try {
        text = await readCappedBody(request, MAX_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new KnowledgeError('ValidationException', `The request body is over ${MAX_BODY_BYTES} bytes`);
        throw error;
      }
      const body = parse(text);
      const answer = kbMatch ? knowledgeBase(decodeURIComponent(kbMatch[1]!), body, record) : kendra(body, record);
      record.outcome = 'success';
      response.writeHead(200, { 'content-type': kbMatch ? 'application/json' : 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      response.end(JSON.stringify(answer));
    } catch (error) {
      const failure = error instanceof KnowledgeError ? error : new KnowledgeError('InternalServerException', (error as Error).message);
      record.outcome = failure.type;
      if (kbMatch) {
        response.writeHead(KNOWLEDGE_BASE_STATUS[failure.type], { 'content-type': 'application/json', 'x-amzn-errortype': failure.type, 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify({ message: failure.message }));
      } else {
        response.writeHead(KENDRA_STATUS[failure.type], { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify({ __type: failure.type, Message: failure.message }));
      }
    }
  };

  // Kendra's client speaks HTTP/1.1, the Bedrock Agent Runtime client cleartext HTTP/2: one port for both.
  const dual = createDualProtocolServer((request, response) => void handle(request, response));
  const { port, url } = await listenOn(dual.server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url,
    port,
    retrievals: () => [...records],
    failNext: (type, count = 1) => {
      for (let i = 0; i < count; i += 1) injected.push(type);
    },
    close: () => dual.close(),
  };
}

function kbResult({ passage, score }: RankedPassage): unknown {
  return {
    content: { type: 'TEXT', text: passage.text },
    location: { type: 'S3', s3Location: { uri: passage.uri } },
    score,
    metadata: { 'x-amz-bedrock-kb-source-uri': passage.uri, 'x-amz-bedrock-kb-chunk-id': passage.id, title: passage.title },
    documentId: passage.documentId,
  };
}
