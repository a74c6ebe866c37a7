import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinTools, EmailOutbox } from '../../src/tools/builtin/index.js';
import { loadFixtures } from '../../src/tools/builtin/fixtures.js';
import { parseIdentifier } from '../../src/tools/builtin/lookup-customer.js';
import { searchKnowledge } from '../../src/tools/builtin/search-knowledge.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry, type ToolRegistry } from '../../src/tools/registry.js';
import type { ToolRunResult } from '../../src/tools/types.js';

const FIXTURES = join(import.meta.dirname, '../../scenarios/fixtures');
/** Wednesday 2026-11-25, 10:00 in New York. */
const NOW = Date.parse('2026-11-25T15:00:00Z');

describe('built-in tools', () => {
  let registry: ToolRegistry;
  let outbox: EmailOutbox;
  beforeEach(async () => {
    outbox = new EmailOutbox();
    registry = createToolRegistry(await createBuiltinTools({ fixturesDir: FIXTURES, now: () => NOW, outbox }));
  });

  const call = async (name: string, input: unknown, from = '+15551000000'): Promise<ToolRunResult> => {
    const [result] = await executeToolUses(registry, [{ toolUseId: 'tooluse_1', name, input }], { callId: 'call-1', agent: 'default', from }, {
      signal: new AbortController().signal, defaultTimeoutMs: 5_000, maxResultBytes: 64_000,
    });
    if (!result) throw new Error('no result');
    return result;
  };

  it('offers the five tools of the scenarios, with fillers where the wait is noticeable', () => {
    expect(registry.names()).toEqual(['lookup_customer', 'book_appointment', 'search_knowledge', 'transfer_call', 'send_email']);
    expect(registry.get('lookup_customer')?.filler).toBe('One moment while I look that up.');
    expect(registry.get('book_appointment')?.filler).toBe('Let me check the calendar for you.');
    expect(registry.get('search_knowledge')?.filler).toBe('Let me check that for you.');
    expect(registry.get('transfer_call')?.filler).toBeUndefined();
    expect(registry.get('send_email')?.filler).toBeUndefined();
  });

  describe('lookup_customer', () => {
    it('finds the caller by phone number with upcoming appointments', async () => {
      const result = await call('lookup_customer', { identifier: '+15551000000' });
      expect(result.outcome).toBe('success');
      expect(result.content).toMatchObject({
        found: true,
        customer: { id: 'C-1001', name: 'Maria Lopez', accountStatus: 'good_standing', upcomingAppointments: [{ date: '2026-12-03', time: '08:00', reason: 'cleaning' }] },
      });
    });

    it.each([['maria.LOPEZ@example.com'], ['c-1001'], ['(555) 100-0000'], ['1 555 100 0000']])('finds the same customer by %s', async (identifier) => {
      expect((await call('lookup_customer', { identifier })).content).toMatchObject({ found: true, customer: { id: 'C-1001' } });
    });

    it('politely does not find an unknown load-test caller', async () => {
      const result = await call('lookup_customer', { identifier: '+15551000999' });
      expect(result).toMatchObject({ status: 'success', content: { found: false } });
      expect((result.content as { message: string }).message).toMatch(/No patient record matches that phone/);
    });

    it('rejects an identifier of no known kind, and a missing identifier', async () => {
      expect(await call('lookup_customer', { identifier: 'banana' })).toMatchObject({
        status: 'error', outcome: 'invalid_input',
        content: { error: 'Invalid input for lookup_customer: identifier "banana" is not a phone number (E.164, e.g. +15551000000), an email address or a customer id (e.g. C-1001)' },
      });
      expect(await call('lookup_customer', {})).toMatchObject({ outcome: 'invalid_input', content: { error: "Invalid input for lookup_customer: (input): must have required property 'identifier'" } });
    });

    it('classifies identifiers', () => {
      expect(parseIdentifier(' +44 20 7946 0958 ')).toEqual({ kind: 'phone', value: '+442079460958' });
      expect(parseIdentifier('5551000001')).toEqual({ kind: 'phone', value: '+15551000001' });
    });
  });

  describe('book_appointment', () => {
    it('books the scenario slot once and refuses the second caller politely with alternatives', async () => {
      const first = await call('book_appointment', { date: '2026-12-03', time: '10:00', reason: 'check-up' });
      expect(first).toMatchObject({
        status: 'success',
        content: { booked: true, appointment: { date: '2026-12-03', time: '10:00', reason: 'check-up', name: 'Maria Lopez', practice: 'Harbor Dental' }, message: 'Booked for Thursday, December 3 at 10:00.' },
      });
      const second = await call('book_appointment', { date: '2026-12-03', time: '10:00', reason: 'cleaning', name: 'Tom' }, '+15551000999');
      expect(second).toMatchObject({ status: 'success', content: { booked: false, reason: 'taken', message: 'That time is already taken.' } });
      expect((second.content as { alternatives: unknown[] }).alternatives).toEqual([
        { date: '2026-12-03', time: '10:30', spoken: 'Thursday, December 3 at 10:30' },
        { date: '2026-12-03', time: '11:30', spoken: 'Thursday, December 3 at 11:30' },
        { date: '2026-12-03', time: '12:00', spoken: 'Thursday, December 3 at 12:00' },
      ]);
      const lookup = await call('lookup_customer', { identifier: '+15551000000' });
      expect((lookup.content as { customer: { upcomingAppointments: unknown[] } }).customer.upcomingAppointments).toContainEqual({ date: '2026-12-03', time: '10:00', reason: 'check-up' });
    });

    it.each([
      [{ date: '2026-11-20', time: '10:00' }, 'past'],
      [{ date: '2026-11-29', time: '10:00' }, 'closed'],
      [{ date: '2026-12-25', time: '10:00' }, 'closed'],
      [{ date: '2026-12-05', time: '13:00' }, 'outside_hours'],
      [{ date: '2026-12-04', time: '10:15' }, 'not_a_slot_start'],
      [{ date: '2027-12-01', time: '10:00' }, 'too_far_ahead'],
    ])('refuses %j as %s, offering free slots', async (slot, reason) => {
      const result = await call('book_appointment', { ...slot, reason: 'cleaning' });
      expect(result).toMatchObject({ status: 'success', content: { booked: false, reason } });
    });

    it('books on Thursday evening hours', async () => {
      expect((await call('book_appointment', { date: '2026-12-03', time: '19:30', reason: 'cleaning' })).content).toMatchObject({ booked: true });
    });

    it('rejects malformed dates and times', async () => {
      expect(await call('book_appointment', { date: '3 Dec', time: '10:00', reason: 'x' })).toMatchObject({ outcome: 'invalid_input' });
      expect(await call('book_appointment', { date: '2026-12-03', time: '25:00', reason: 'x' })).toMatchObject({ outcome: 'invalid_input' });
      expect(await call('book_appointment', { date: '2026-02-30', time: '10:00', reason: 'x' })).toMatchObject({
        outcome: 'invalid_input', content: { error: 'Invalid input for book_appointment: date "2026-02-30" is not a calendar date' },
      });
      expect(await call('book_appointment', { date: '2026-12-03', time: '10:00' })).toMatchObject({ outcome: 'invalid_input' });
    });
  });

  describe('search_knowledge', () => {
    it('puts the cancellation policy first for the scenario query', async () => {
      const result = await call('search_knowledge', { query: 'cancellation policy' });
      const { results } = result.content as { results: Array<{ id: string; answer: string }> };
      expect(results[0]?.id).toBe('cancellation-policy');
      expect(results[0]?.answer).toMatch(/twenty-four hours/);
      expect(results.length).toBeLessThanOrEqual(3);
    });

    it('matches word variants and ranks title matches first', async () => {
      const articles = (await loadFixtures(FIXTURES)).knowledge;
      expect(searchKnowledge(articles, 'Can I cancel my appointment?', 1)[0]?.id).toBe('cancellation-policy');
      expect(searchKnowledge(articles, 'where do I park', 1)[0]?.id).toBe('parking-access');
      expect(searchKnowledge(articles, 'opening hours on saturday', 1)[0]?.id).toBe('opening-hours');
      expect(searchKnowledge(articles, 'what is the', 3)).toEqual([]);
    });

    it('says so when nothing matches, and rejects an empty query', async () => {
      expect((await call('search_knowledge', { query: 'zebra quantum' })).content).toMatchObject({ results: [], message: expect.stringMatching(/Nothing in the knowledge base/) });
      expect(await call('search_knowledge', { query: '' })).toMatchObject({ outcome: 'invalid_input' });
    });
  });

  describe('transfer_call', () => {
    it('asks for a transfer to the named team', async () => {
      const result = await call('transfer_call', { to: 'front-desk', reason: 'caller asked for a person' });
      expect(result).toMatchObject({ status: 'success', content: { transferring: true, to: 'front-desk' }, transfer: { to: 'front-desk', reason: 'caller asked for a person' } });
      expect((await call('transfer_call', { to: '+15550100123' })).transfer).toEqual({ to: '+15550100123' });
    });

    it('rejects a destination that is neither a team, a number nor a SIP address', async () => {
      const result = await call('transfer_call', { to: 'Front Desk!' });
      expect(result).toMatchObject({ outcome: 'invalid_input' });
      expect(result.transfer).toBeUndefined();
    });
  });

  describe('send_email', () => {
    it('records the email in the outbox without sending it', async () => {
      const result = await call('send_email', { to: 'maria.lopez@example.com', subject: 'Your appointment', body: 'See you on Thursday.' });
      expect(result).toMatchObject({ status: 'success', content: { sent: true, to: 'maria.lopez@example.com' } });
      expect(outbox.list()).toEqual([
        { id: 'E-000001', to: 'maria.lopez@example.com', subject: 'Your appointment', body: 'See you on Thursday.', callId: 'call-1', queuedAtMs: NOW },
      ]);
    });

    it('rejects an invalid address and keeps the outbox empty', async () => {
      expect(await call('send_email', { to: 'not-an-address', subject: 'x', body: 'y' })).toMatchObject({ outcome: 'invalid_input' });
      expect(outbox.list()).toEqual([]);
    });

    it('keeps only the latest emails of a bounded outbox', () => {
      const small = new EmailOutbox(2);
      for (const to of ['a@x.io', 'b@x.io', 'c@x.io']) small.record({ to, subject: 's', body: 'b', callId: 'c', queuedAtMs: 0 });
      expect(small.list().map((email) => email.to)).toEqual(['b@x.io', 'c@x.io']);
    });
  });
});
