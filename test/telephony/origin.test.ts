import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isAllowedOrigin } from '../../src/telephony/origin.js';

const upgrade = (headers: Record<string, string>) => ({ headers }) as IncomingMessage;

describe('isAllowedOrigin', () => {
  it('lets through clients that send no Origin: they are not browsers', () => {
    expect(isAllowedOrigin(upgrade({ host: '127.0.0.1:8080' }), [])).toBe(true);
  });

  it("accepts the server's own origin under whatever name the browser used", () => {
    expect(isAllowedOrigin(upgrade({ host: 'localhost:8080', origin: 'http://localhost:8080' }), [])).toBe(true);
    expect(isAllowedOrigin(upgrade({ host: '127.0.0.1:8080', origin: 'http://localhost:8080' }), [])).toBe(false);
  });

  it('accepts only the listed foreign origins, and refuses a malformed or opaque one', () => {
    const allowed = ['https://app.example'];
    expect(isAllowedOrigin(upgrade({ host: '127.0.0.1:8080', origin: 'https://app.example' }), allowed)).toBe(true);
    expect(isAllowedOrigin(upgrade({ host: '127.0.0.1:8080', origin: 'https://evil.example' }), allowed)).toBe(false);
    expect(isAllowedOrigin(upgrade({ host: '127.0.0.1:8080', origin: 'null' }), allowed)).toBe(false);
  });
});
