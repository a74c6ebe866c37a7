import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const protocolNote = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

describe('defaults the protocol note states', () => {
  it('gives the resume grace the configuration really has, in its table and its prose', () => {
    const { resumeGraceMs } = loadConfig({ env: {} }).server;
    expect(resumeGraceMs).toBe(10_000);
    const tableRow = protocolNote.match(/^\| `resumeGraceMs` \| ([\d,]+) ms \|/m);
    expect(Number(tableRow?.[1]?.replaceAll(',', ''))).toBe(resumeGraceMs);
    const prose = [...protocolNote.matchAll(/`resumeGraceMs` \((\d+) s\)/g)].map((match) => Number(match[1]) * 1000);
    expect(prose.length).toBeGreaterThan(0);
    expect(new Set(prose)).toEqual(new Set([resumeGraceMs]));
  });
});
