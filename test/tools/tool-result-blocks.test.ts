import { describe, expect, it } from 'vitest';
import { toResultContent, toToolResultBlocks } from '../../src/tools/executor.js';
import type { ToolRunResult } from '../../src/tools/types.js';

const run = (content: unknown, status: ToolRunResult['status'] = 'success'): ToolRunResult =>
  ({ toolUseId: 'tooluse_1', name: 'echo', status, content, durationMs: 1, outcome: status === 'success' ? 'success' : 'error' });

describe('toolResult blocks', () => {
  it('sends each result as a toolResult block with its id and status, in order', () => {
    const blocks = toToolResultBlocks([run({ found: true }), { ...run({ error: 'boom' }, 'error'), toolUseId: 'tooluse_2' }]);
    expect(blocks).toEqual([
      { toolResult: { toolUseId: 'tooluse_1', content: [{ json: { found: true } }], status: 'success' } },
      { toolResult: { toolUseId: 'tooluse_2', content: [{ json: { error: 'boom' } }], status: 'error' } },
    ]);
  });

  it('puts only JSON objects in a json block, as Bedrock requires', () => {
    expect(toResultContent({ a: 1 })).toEqual({ json: { a: 1 } });
    expect(toResultContent([1, 2])).toEqual({ json: { result: [1, 2] } });
    expect(toResultContent(42)).toEqual({ json: { result: 42 } });
    expect(toResultContent(false)).toEqual({ json: { result: false } });
    expect(toResultContent(null)).toEqual({ json: { result: null } });
    expect(toResultContent(undefined)).toEqual({ json: { result: null } });
  });

  it('sends a non-empty string as text and never sends empty content', () => {
    expect(toResultContent('All done.')).toEqual({ text: 'All done.' });
    expect(toResultContent('')).toEqual({ json: { result: '' } });
    expect(toToolResultBlocks([run('', 'error')])[0]).toEqual({ toolResult: { toolUseId: 'tooluse_1', content: [{ json: { result: '' } }], status: 'error' } });
  });

  it('returns no blocks for no results', () => {
    expect(toToolResultBlocks([])).toEqual([]);
  });
});
