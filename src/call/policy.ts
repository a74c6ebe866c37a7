import type { ModelCatalogue } from '../config/catalogue.js';
import type { AgentConfig, AybizaConfig } from '../config/schema.js';
import type { Accounting } from '../accounting/accounting.js';
import { planFallback } from '../llm/fallback.js';
import { routeModel } from '../llm/router.js';
import { epochMs } from '../clock.js';
import { toToolResultBlocks } from '../tools/executor.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { CallPolicy } from './machine.js';

export interface CallPolicyDependencies {
  config: AybizaConfig;
  catalogue: ModelCatalogue;
  tools: ToolRegistry;
  accounting: Pick<Accounting, 'price'>;
}

export function agentConfig(config: AybizaConfig, name: string): AgentConfig {
  const agent = config.agents[name];
  if (!agent) throw new Error(`unknown agent "${name}"`);
  return agent;
}

/**
 * What the call machine looks up from configuration while it computes its context: the model to
 * ask, the next fallback hop, prices, tool fillers and the agent's answers. No I/O: the hop is
 * counted and logged by the `fallbackTaken` effect.
 */
export function createCallPolicy(deps: CallPolicyDependencies): CallPolicy {
  const { config, catalogue } = deps;
  const agentOf = (name: string) => agentConfig(config, name);
  return {
    chooseModel: (context) => {
      const agent = agentOf(context.agent);
      const spent = agent.maxCostUsd ? context.costUsd / agent.maxCostUsd : 0;
      const ref = agent.model === 'auto'
        ? routeModel(config.router, { utterance: context.utterance, toolsAvailable: agent.tools.length > 0, costSpentFraction: spent })
        : agent.model;
      const stepDown = agent.model !== 'auto' && spent >= config.router.budgetStepDownFraction ? catalogue.cheaper(ref) : undefined;
      const resolved = stepDown ?? catalogue.resolve(ref);
      return { modelRef: stepDown ? stepDown.entry.alias : ref, modelId: resolved.modelId, region: config.bedrock.region, tried: [] };
    },

    planFallback: (choice, error) => {
      const hop = planFallback(
        { modelRef: choice.modelRef, region: choice.region, tried: choice.tried },
        error,
        { catalogue, primaryRegion: config.bedrock.region, fallbackRegion: config.bedrock.fallbackRegion },
      );
      if (hop.kind === 'canned') return { kind: 'canned', reason: hop.reason };
      const tried = [...choice.tried, { modelId: choice.modelId, region: choice.region, code: error.code }];
      const modelRef = hop.kind === 'model' ? hop.modelRef : choice.modelRef;
      return { kind: 'retry', hop: hop.kind, reason: hop.reason, choice: { modelRef, modelId: hop.modelId, region: hop.region, tried } };
    },

    toolResultBlocks: toToolResultBlocks,
    fillerFor: (names) => names.map((name) => deps.tools.get(name)?.filler).find((filler) => filler !== undefined),
    price: (modelId, usage) => deps.accounting.price(usage, catalogue.priceOf(modelId)),
    agentPolicy: (name) => {
      const agent = agentOf(name);
      return {
        cannedAnswer: agent.cannedAnswer,
        maxCostUsd: agent.maxCostUsd,
        actOnDtmf: agent.dtmf.speakDigits,
        maxToolRoundsPerTurn: agent.maxToolRoundsPerTurn,
        maxModelRequestsPerCall: agent.maxModelRequestsPerCall,
        // The transcript limit of one frame applies to what unanswered frames combine into.
        maxUtteranceChars: config.server.maxTranscriptChars,
        idleRepromptMs: agent.idleRepromptMs,
        idleHangupMs: agent.idleHangupMs,
        idleReprompt: agent.idleReprompt,
        idleGoodbye: agent.idleGoodbye,
      };
    },
    now: epochMs,
  };
}
