import { describe, expect, it } from 'vitest';
import { assign, createMachine, fromPromise, setup } from 'xstate';
import { machineDiagram, machineEdges } from '../../src/call/machine-edges.js';

/** A machine with one of each kind of transition the diagram names, and event names that only contain xstate's prefixes. */
const toy = setup({ actors: { fetchAnswer: fromPromise(async () => 'answer') }, delays: { patience: 1_000 } }).createMachine({
  id: 'toy',
  initial: 'idle',
  context: { count: 0 },
  states: {
    idle: {
      on: {
        // Two guarded alternatives to the same target are one edge.
        go: [{ guard: ({ context }) => context.count > 0, target: 'working' }, { target: 'working' }],
        'ui.xstate.after.tap.': 'working',
        'ui.xstate.done.actor.fake': 'done',
        // A transition without a target (actions only) draws no edge.
        count: { actions: assign({ count: ({ context }) => context.count + 1 }) },
      },
      always: [{ guard: ({ context }) => context.count > 10, actions: assign({ count: 0 }) }],
    },
    working: {
      initial: 'asking',
      states: {
        asking: {
          invoke: { src: 'fetchAnswer', id: 'fetch', onDone: 'answered', onError: '#toy.idle' },
          after: { patience: '#toy.idle' },
        },
        answered: { always: '#toy.done' },
      },
    },
    done: { type: 'final' },
  },
});

describe('the machine diagram', () => {
  it('lists the root as call, then every state by its path in document order', () => {
    expect(machineDiagram(toy).states).toEqual(['call', 'idle', 'working', 'working.asking', 'working.answered', 'done']);
  });

  it('draws every targeted transition once, sorted, with invocation results, delays and eventless transitions named', () => {
    expect(machineEdges(toy)).toEqual([
      'idle --> done : ui.xstate.done.actor.fake',
      'idle --> working : go',
      'idle --> working : ui.xstate.after.tap.',
      'working.answered --> done : always',
      'working.asking --> idle : after(patience)',
      'working.asking --> idle : error(fetch)',
      'working.asking --> working.answered : done(fetch)',
    ]);
  });

  it('gives each edge its source, target and event', () => {
    const plain = createMachine({ initial: 'a', states: { a: { on: { next: 'b' } }, b: {} } });
    expect(machineDiagram(plain)).toEqual({ states: ['call', 'a', 'b'], edges: [{ source: 'a', target: 'b', event: 'next' }] });
  });
});
