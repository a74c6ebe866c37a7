import { BedrockAgentRuntimeClient, RetrieveCommand as KnowledgeBaseRetrieveCommand } from '@aws-sdk/client-bedrock-agent-runtime';
import { KendraClient, RetrieveCommand as KendraRetrieveCommand } from '@aws-sdk/client-kendra';
import { backendOf } from '../executor.js';
import type { ToolContext, ToolDefinition, ToolOutput } from '../types.js';

export type KnowledgeSource =
  | { backend: 'kendra'; client: KendraClient; indexId: string }
  | { backend: 'bedrock-kb'; client: BedrockAgentRuntimeClient; knowledgeBaseId: string };

export interface RetrievedPassage {
  title: string;
  uri: string;
  text: string;
  /** 0–1: Knowledge Bases' relevance score, or the lower bound of Kendra's confidence bucket. */
  score: number;
}

/** Kendra's Retrieve gives no number, only a bucket; each counts as the least score it stands for. */
const KENDRA_CONFIDENCE: Record<string, number> = { VERY_HIGH: 0.75, HIGH: 0.5, MEDIUM: 0.25, LOW: 0, NOT_AVAILABLE: 0 };

interface ClientOptions { region: string; endpoint?: string; credentials: 'aws' | 'emulator' }

const sdkOptions = (options: ClientOptions) => ({
  region: options.region,
  maxAttempts: 1,
  ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  ...(options.credentials === 'emulator' ? { credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } } : {}),
});

export const createKendraClient = (options: ClientOptions): KendraClient => new KendraClient(sdkOptions(options));
export const createKnowledgeBaseClient = (options: ClientOptions): BedrockAgentRuntimeClient => new BedrockAgentRuntimeClient(sdkOptions(options));

/** The passages the service ranks for `query`, best first. */
export async function retrievePassages(source: KnowledgeSource, query: string, maxResults: number, signal: AbortSignal): Promise<RetrievedPassage[]> {
  if (source.backend === 'kendra') {
    const output = await source.client.send(new KendraRetrieveCommand({ IndexId: source.indexId, QueryText: query, PageSize: maxResults }), { abortSignal: signal });
    return (output.ResultItems ?? []).slice(0, maxResults).map((item) => ({
      title: item.DocumentTitle ?? item.DocumentId ?? 'untitled document',
      uri: item.DocumentURI ?? '',
      text: item.Content ?? '',
      score: KENDRA_CONFIDENCE[item.ScoreAttributes?.ScoreConfidence ?? 'NOT_AVAILABLE'] ?? 0,
    }));
  }
  const output = await source.client.send(new KnowledgeBaseRetrieveCommand({
    knowledgeBaseId: source.knowledgeBaseId,
    retrievalQuery: { text: query },
    retrievalConfiguration: { vectorSearchConfiguration: { numberOfResults: maxResults } },
  }), { abortSignal: signal });
  return (output.retrievalResults ?? []).map((result) => {
    const uri = result.location?.s3Location?.uri ?? result.location?.webLocation?.url ?? '';
    const title = result.metadata?.title;
    return { title: typeof title === 'string' ? title : uri.split('/').at(-1) || 'untitled document', uri, text: result.content?.text ?? '', score: result.score ?? 0 };
  });
}

export interface AgentKnowledge {
  source: KnowledgeSource;
  /** Passages scoring below this are not used: the agent says it does not know. */
  minScore: number;
  maxResults: number;
  timeoutMs: number;
}

export const NOT_KNOWN = "I'm sorry, I don't know that. I can take a message or transfer you to the front desk.";

/**
 * `search_knowledge` answered, per agent, by Kendra or a Bedrock knowledge base; agents without one
 * keep `fallback` (the fixture search). The result's `answer` is a sentence to speak that cites the
 * passage's document, and `citation` names it with its URI.
 */
export function createKnowledgeSearchTool(byAgent: ReadonlyMap<string, AgentKnowledge>, fallback: ToolDefinition): ToolDefinition {
  return {
    ...fallback,
    // One deadline per tool: the longest any agent's knowledge base is given.
    timeoutMs: Math.max(fallback.timeoutMs ?? 0, ...[...byAgent.values()].map((knowledge) => knowledge.timeoutMs)),
    description: `${fallback.description} Answers cite the document they come from; say so.`,
    backend: (agent) => byAgent.get(agent)?.source.backend ?? backendOf(fallback, agent),
    async run(input, context: ToolContext): Promise<ToolOutput> {
      const knowledge = byAgent.get(context.agent);
      if (!knowledge) return fallback.run(input, context);
      const passages = await retrievePassages(knowledge.source, String(input.query), knowledge.maxResults, context.signal);
      const used = passages.filter((passage) => passage.score >= knowledge.minScore);
      const best = used[0];
      if (!best) return { result: { answer: NOT_KNOWN, results: [], note: `Nothing scored at least ${knowledge.minScore}; do not guess.` } };
      return {
        result: {
          answer: `According to our ${best.title}: ${best.text}`,
          citation: `${best.title} (${best.uri})`,
          results: used,
        },
      };
    },
  };
}
