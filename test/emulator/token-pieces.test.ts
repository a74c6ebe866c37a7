import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPieces, textPieces } from '../../src/emulator/token-pieces.js';

describe('token-sized pieces', () => {
  it('concatenate back to the exact text, whatever the text', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
      expect(textPieces(text).join('')).toBe(text);
    }));
  });

  it('never join two words and never exceed four visible characters', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      for (const piece of textPieces(text)) expect(piece.trim()).toMatch(/^\S{0,4}$/);
    }));
  });

  it('split tool input JSON into several pieces that concatenate back', () => {
    const json = JSON.stringify({ date: '2026-12-03', time: '10:00', reason: 'cleaning' });
    const pieces = jsonPieces(json);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(json);
    expect(jsonPieces('{}').join('')).toBe('{}');
  });
});
