import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** A machine as a diagram: every state by its path under the root, and every transition between them. */
export interface MachineDiagram {
  /** `call` (the root) first, then every state in document order: `responding.generating.thinking`. */
  states: string[];
  edges: Array<{ source: string; target: string; event: string }>;
}

/**
 * The machine's states and transitions, states named by their path under the root. Invocation
 * results read as `done(actor)` and `error(actor)`, delayed ones as `after(delay)`, eventless transitions as `always`. The README's
 * diagram is checked against it (test/call/machine-diagram.test.ts) and the inspector draws it.
 */
export function machineDiagram(machine: AnyStateMachine): MachineDiagram {
  const states: string[] = [];
  const edges = new Map<string, MachineDiagram['edges'][number]>();
  const add = (source: string, target: AnyStateNode, event: string) => {
    const edge = { source, target: pathOf(target), event };
    edges.set(`${edge.source} --> ${edge.target} : ${edge.event}`, edge);
  };
  const visit = (node: AnyStateNode) => {
    const source = pathOf(node);
    states.push(source);
    for (const [eventType, transitions] of node.transitions) {
      for (const transition of transitions) for (const target of transition.target ?? []) add(source, target, eventLabel(eventType));
    }
    for (const transition of node.always ?? []) for (const target of transition.target ?? []) add(source, target, 'always');
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
  return { states, edges: [...edges.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, edge]) => edge) };
}

/** The transitions as sorted `source --> target : event` lines. */
export function machineEdges(machine: AnyStateMachine): string[] {
  return machineDiagram(machine).edges.map((edge) => `${edge.source} --> ${edge.target} : ${edge.event}`);
}

const pathOf = (node: AnyStateNode): string => (node.path.length === 0 ? 'call' : node.path.join('.'));

function eventLabel(eventType: string): string {
  const invoked = eventType.match(/^xstate\.(done|error)\.actor\.(.+)$/);
  if (invoked) return `${invoked[1]}(${invoked[2]})`;
  const delayed = eventType.match(/^xstate\.after\.([^.]+)\./);
  if (delayed) return `after(${delayed[1]})`;
  return eventType;
}
