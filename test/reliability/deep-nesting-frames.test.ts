import { describe, expect, it } from 'vitest';
import { FrameError, parseInboundFrame } from '../../src/protocol/frames.js';

const codeOf = (raw: string): string => {
  try {
    parseInboundFrame(raw, 4_000);
    return 'accepted';
  } catch (error) {
    return error instanceof FrameError ? error.code : `threw ${(error as Error).name}`;
  }
};

describe('frames nested 10,000 levels deep', () => {
  const objects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;

  it('are refused as bad_message inside start.metadata instead of overflowing the stack', () => {
    expect(codeOf(`{"type":"start","metadata":{"x":${objects}}}`)).toBe('bad_message');
  });

  it('are refused as bad_frame at the top level and bad_message in any field', () => {
    expect(codeOf(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toBe('bad_frame');
    expect(codeOf(`{"type":"transcript","final":true,"text":${objects}}`)).toBe('bad_message');
  });
});
