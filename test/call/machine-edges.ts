import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * The machine's transitions as `source --> target : event` lines, states named by their path
 * under the root (`responding.generating.thinking`). Invocation results read as `done(actor)` and
 * `error(actor)`, delayed ones as `after(delay)`, eventless transitions as `always`.
 */
export function machineEdges(machine: AnyStateMachine): string[] {
  const edges = new Set<string>();
  const visit = (node: AnyStateNode) => {
    const source = pathOf(node);
    for (const [eventType, transitions] of node.transitions) {
      for (const transition of transitions) {
        for (const target of transition.target ?? []) edges.add(`${source} --> ${pathOf(target)} : ${eventLabel(eventType)}`);
      }
    }
    for (const transition of node.always ?? []) {
      for (const target of transition.target ?? []) edges.add(`${source} --> ${pathOf(target)} : always`);
    }
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
  return [...edges].sort();
}

const pathOf = (node: AnyStateNode): string => (node.path.length === 0 ? 'call' : node.path.join('.'));

function eventLabel(eventType: string): string {
  const invoked = eventType.match(/^xstate\.(done|error)\.actor\.(.+)$/);
  if (invoked) return `${invoked[1]}(${invoked[2]})`;
  const delayed = eventType.match(/^xstate\.after\.([^.]+)\./);
  if (delayed) return `after(${delayed[1]})`;
  return eventType;
}
