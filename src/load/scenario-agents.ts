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
