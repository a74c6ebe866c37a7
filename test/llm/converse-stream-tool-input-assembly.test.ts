import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { MalformedToolInputError } from '../../src/llm/error-mapping.js';
import { ModelEventMapper } from '../../src/llm/converse-stream.js';

const start = (index: number, toolUseId: string, name: string): ConverseStreamOutput =>
  ({ contentBlockStart: { contentBlockIndex: index, start: { toolUse: { toolUseId, name } } } });
const input = (index: number, piece: string): ConverseStreamOutput =>
  ({ contentBlockDelta: { contentBlockIndex: index, delta: { toolUse: { input: piece } } } });
const stop = (index: number): ConverseStreamOutput => ({ contentBlockStop: { contentBlockIndex: index } });

/** Wire events in the order a parallel tool-use answer may interleave them. */
const interleaved: ConverseStreamOutput[] = [
  start(1, 'tooluse_a', 'lookup_customer'),
  start(2, 'tooluse_b', 'search_knowledge'),
  input(1, '{"identi'),
  input(2, '{"query":"can'),
  input(1, 'fier":"+1555'),
  input(2, 'cel policy","limit":3}'),
  stop(2),
  input(1, '0001"}'),
  stop(1),
];

describe('ModelEventMapper tool input assembly', () => {
  it('keys partial tool input by content block index so interleaved parallel tool uses stay apart', () => {
    const mapper = new ModelEventMapper();
    const events = interleaved.flatMap((event) => mapper.map(event));
    expect(events).toEqual([
      { type: 'toolUseStart', index: 1, toolUseId: 'tooluse_a', name: 'lookup_customer' },
      { type: 'toolUseStart', index: 2, toolUseId: 'tooluse_b', name: 'search_knowledge' },
      { type: 'toolUse', index: 2, toolUseId: 'tooluse_b', name: 'search_knowledge', input: { query: 'cancel policy', limit: 3 } },
      { type: 'toolUse', index: 1, toolUseId: 'tooluse_a', name: 'lookup_customer', input: { identifier: '+15550001' } },
    ]);
  });

  it('gives a tool called without input an empty object', () => {
    const mapper = new ModelEventMapper();
    const events = [start(0, 't', 'transfer_call'), stop(0)].flatMap((event) => mapper.map(event));
    expect(events.at(-1)).toMatchObject({ type: 'toolUse', input: {} });
  });

  it('refuses tool input that is not JSON when its block stops', () => {
    const mapper = new ModelEventMapper();
    [start(0, 't', 'lookup_customer'), input(0, '{"identifier":')].forEach((event) => mapper.map(event));
    expect(() => mapper.map(stop(0))).toThrow(MalformedToolInputError);
  });

  it('throws an exception member of the union instead of dropping it', () => {
    const mapper = new ModelEventMapper();
    const exception = { throttlingException: { name: 'ThrottlingException', message: 'slow down' } } as unknown as ConverseStreamOutput;
    expect(() => mapper.map(exception)).toThrow('slow down');
  });
});
