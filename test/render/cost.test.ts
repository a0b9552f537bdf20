import { describe, expect, it } from 'vitest';
import { costLedger, pricesOf, type Prices } from '../../src/render/cost.js';
import { journalKey } from '../../src/manifest/identity.js';
import type { JournalEntry } from '../../src/render/journal.js';
import type { VideoRequest } from '../../src/api/contract.js';

const shot = (id: string, variant: string | null = null) => ({ id, variant, take: 1 });
const intent = (
  key: string,
  idem: string,
  variant: string | null = null,
): Extract<JournalEntry, { type: 'intent' }> => ({
  type: 'intent',
  key,
  shot: shot(key, variant),
  gen: 1,
  idem,
  model: 'm1',
  seconds: 5,
  at: 1,
});

/** One price per second for every submission. */
const flat = (price: number | null, currency: string | null = null): Prices => ({
  currency,
  of: () => price,
});

describe('costLedger', () => {
  it('bills completed tasks only; failed apart; unknown and running at risk; refusals not at all', () => {
    const entries: JournalEntry[] = [
      intent('a', 'ia'),
      { type: 'task', key: 'a', task_id: 't1', at: 2 },
      { type: 'completed', key: 'a', task_id: 't1', url: 'u', seconds: 6, at: 3 },
      intent('b', 'ib', 'wide'),
      { type: 'task', key: 'b', task_id: 't2', at: 2 },
      { type: 'failed', key: 'b', task_id: 't2', message: 'no', at: 3 },
      intent('c', 'ic'),
      { type: 'failed', key: 'c', message: 'refused', at: 3 },
      intent('d', 'id'),
      { type: 'unknown', key: 'd', message: 'reset', at: 3 },
      intent('e', 'ie'),
      { type: 'task', key: 'e', task_id: 't5', at: 2 },
    ];
    const ledger = costLedger(entries, flat(2));
    expect(ledger.billed).toEqual({ seconds: 6, cost: 12 });
    expect(ledger.failed).toEqual({ seconds: 5, cost: 10 });
    expect(ledger.atRisk).toEqual({ seconds: 10, cost: 20 });
    expect(ledger.tasks).toBe(4);
    expect(ledger.rows.map((r) => [r.variant, r.billed.seconds, r.failed.seconds])).toEqual([
      [null, 6, 0],
      ['wide', 0, 5],
    ]);
  });

  it('a resubmission under the same Idempotency-Key never erases the attempt it retries', () => {
    const entries: JournalEntry[] = [
      intent('a', 'gen1'),
      { type: 'unknown', key: 'a', message: 'reset', at: 2 },
      intent('a', 'gen1'),
      { type: 'task', key: 'a', task_id: 't1', at: 3 },
      { type: 'completed', key: 'a', task_id: 't1', url: 'u', at: 4 },
      intent('a', 'gen2'),
      { type: 'task', key: 'a', task_id: 't2', at: 5 },
      { type: 'completed', key: 'a', task_id: 't2', url: 'u', at: 6 },
    ];
    const ledger = costLedger(entries, flat(null));
    expect(ledger.billed).toEqual({ seconds: 10, cost: null });
    // The API may have created a task for the first POST: it stays "may have been billed".
    expect(ledger.atRisk.seconds).toBe(5);
    expect(ledger.tasks).toBe(3);
  });

  it("prices a submission at the price recorded when it was sent; older ones at today's", () => {
    const entries: JournalEntry[] = [
      { ...intent('a', 'ia'), unit_price: 2, currency: 'CNY' },
      { type: 'completed', key: 'a', task_id: 't1', url: 'u', at: 2 },
      intent('b', 'ib'),
      { type: 'completed', key: 'b', task_id: 't2', url: 'u', at: 2 },
    ];
    const ledger = costLedger(entries, flat(1, 'CNY'));
    expect(ledger.billed).toEqual({ seconds: 10, cost: 15 });
    expect(ledger.todayPriced).toBe(1);
  });

  it('adds money exactly, rounded to the currency: 49 tasks at 0.56 are 27.44', () => {
    const entries: JournalEntry[] = [];
    for (let i = 0; i < 49; i++) {
      entries.push({ ...intent(`k${i}`, `i${i}`), seconds: 1 });
      entries.push({ type: 'completed', key: `k${i}`, task_id: `t${i}`, url: 'u', at: 2 });
    }
    // Floating point adds these up to 27.439999999999998.
    expect(costLedger(entries, flat(0.56, 'USD')).billed).toEqual({ seconds: 49, cost: 27.44 });
    expect(costLedger(entries, flat(0.56, 'JPY')).billed.cost).toBe(49);
  });

  it('prices a planned request at its own size, others by the size the journal records', () => {
    const base = 'http://127.0.0.1:1';
    const body = (size: string) => ({ model: 'm1', prompt: 'p', size }) as VideoRequest;
    const shots = ['480p', '720p'].map((size, i) => ({
      model: 'm1',
      size: size as '480p' | '720p',
      unit_price: i === 0 ? 0.5 : 1,
      currency: 'USD',
      request: body(size),
      take: 1,
    }));
    const prices = pricesOf(shots);
    const key720 = journalKey(body('720p'), 1, base);
    expect(prices.of({ key: key720, base, model: 'm1', size: undefined })).toBe(1);
    expect(prices.of({ key: 'other', base, model: 'm1', size: '480p' })).toBe(0.5);
    // Two prices for the model and no size recorded: no guess.
    expect(prices.of({ key: 'other', base, model: 'm1', size: undefined })).toBeNull();
  });
});
