import type { AgentConfig } from '../config/schema.js';
import type { ModelScript } from '../emulator/script.js';
import type { Scenario } from './scenario.js';

/**
 * The agents a set of scenarios calls, one per scenario and named after it: the scenario's `agent`
 * over the server's default agent. The in-process target is configured with these, and
 * `aybiza load --print-config` writes them for a separate `serve`.
 */
export function scenarioAgents(scenarios: Scenario[], defaultAgent: AgentConfig): Record<string, unknown> {
  const agents: Record<string, unknown> = { default: defaultAgent };
  for (const scenario of scenarios) agents[scenario.name] = { ...defaultAgent, ...(scenario.agent ?? {}) };
  return agents;
}

/** The emulated model behaviour of each scenario, keyed by its agent name as the emulator selects scripts. */
export function scenarioScripts(scenarios: Scenario[]): Record<string, ModelScript> {
  return Object.fromEntries(scenarios.flatMap((scenario) => (scenario.model ? [[scenario.name, scenario.model]] : [])));
}

/**
 * The `tools` sections of a set of scenarios as one: knowledge bases by name, MCP servers and
 * connectors by name (the first scenario naming one wins), for the node's configuration.
 */
export function scenarioTools(scenarios: Scenario[]): Record<string, unknown> {
  const knowledgeBases: Record<string, unknown> = {};
  const byName = { mcp: new Map<string, unknown>(), connectors: new Map<string, unknown>() };
  for (const { tools } of scenarios) {
    for (const [name, base] of Object.entries(tools?.knowledgeBases ?? {})) knowledgeBases[name] ??= base;
    for (const key of ['mcp', 'connectors'] as const) {
      for (const entry of tools?.[key] ?? []) if (!byName[key].has(String(entry.name))) byName[key].set(String(entry.name), entry);
    }
  }
  return {
    ...(Object.keys(knowledgeBases).length ? { knowledgeBases } : {}),
    ...(byName.mcp.size ? { mcp: [...byName.mcp.values()] } : {}),
    ...(byName.connectors.size ? { connectors: [...byName.connectors.values()] } : {}),
  };
}
