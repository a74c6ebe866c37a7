import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { createCallMachine } from '../../src/call/machine.js';
import { fakeCallEffects } from './fake-call-effects.js';
import { machineEdges } from '../../src/call/machine-edges.js';

const machine = createCallMachine(fakeCallEffects().policy);

function readmeDiagram(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.match(/```mermaid\n(stateDiagram-v2[\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no mermaid stateDiagram-v2 block');
  return block.split('\n').map((line) => line.trim());
}

/** Diagram names are bare state keys (unique in this machine); `any` stands for the root. */
function statePaths(): Map<string, string> {
  const paths = new Map<string, string>([['any', 'call']]);
  const visit = (node: AnyStateNode) => {
    if (node.path.length > 0) paths.set(node.key, node.path.join('.'));
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
  return paths;
}

describe('README state diagram', () => {
  it('has exactly the transitions of the call machine', () => {
    const paths = statePaths();
    const resolve = (name: string) => {
      const path = paths.get(name);
      if (!path) throw new Error(`diagram names a state the machine does not have: ${name}`);
      return path;
    };
    const documented = readmeDiagram()
      .map((line) => line.match(/^(\w+) --> (\w+) : (.+)$/))
      .filter((match): match is RegExpMatchArray => match !== null)
      .map(([, source, target, event]) => `${resolve(source!)} --> ${resolve(target!)} : ${event}`)
      .sort();
    expect(documented).toEqual(machineEdges(machine));
  });

  it('names every state the machine has', () => {
    const lines = readmeDiagram().join('\n');
    for (const name of statePaths().keys()) expect(lines).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('includes the states the product promises', () => {
    const names = [...statePaths().keys()];
    expect(names).toEqual(expect.arrayContaining(['connecting', 'listening', 'thinking', 'toolCalling', 'speaking', 'fallback', 'ended']));
  });
});
