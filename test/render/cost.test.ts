import { describe, expect, it } from 'vitest';
import { costLedger } from '../../src/render/cost.js';
import type { JournalEntry } from '../../src/render/journal.js';

const shot = (id: string, variant: string | null = null) => ({ id, variant, take: 1 });
const intent = (key: string, idem: string, variant: string | null = null): JournalEntry => ({
  type: 'intent',
  key,
  shot: shot(key, variant),
  gen: 1,
  idem,
  model: 'm1',
  seconds: 5,
  at: 1,
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
    const ledger = costLedger(entries, new Map([['m1', 2]]));
    expect(ledger.billed).toEqual({ seconds: 6, cost: 12 });
    expect(ledger.failed).toEqual({ seconds: 5, cost: 10 });
    expect(ledger.atRisk).toEqual({ seconds: 10, cost: 20 });
    expect(ledger.tasks).toBe(4);
    expect(ledger.rows.map((r) => [r.variant, r.billed.seconds, r.failed.seconds])).toEqual([
      [null, 6, 0],
      ['wide', 0, 5],
    ]);
  });

  it('a resubmission under the same Idempotency-Key is the same task; a new generation is another', () => {
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
    const ledger = costLedger(entries, new Map([['m1', null]]));
    expect(ledger.billed).toEqual({ seconds: 10, cost: null });
    expect(ledger.atRisk.seconds).toBe(0);
    expect(ledger.tasks).toBe(2);
  });
});
