import { describe, expect, it, onTestFinished } from 'vitest';
import { BODY, KEY, get, post, render, sim } from './helpers.js';
import { tempDir } from '../helpers/cli.js';

type Outcome = '200' | '206' | '404' | '429' | '500' | '502' | 'reset' | 'truncate' | 'other';

/** What the client saw: a status, a reset before any answer, or a body cut short after the headers. */
async function outcome(request: () => Promise<Response>, expectedBytes?: number): Promise<Outcome> {
  let res: Response;
  try {
    res = await request();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNRESET' || /other side closed|socket/i.test(cause?.message ?? ''))
      return 'reset';
    throw error;
  }
  if (res.status === 429) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  if (expectedBytes !== undefined)
    expect(Number(res.headers.get('content-length'))).toBe(expectedBytes);
  try {
    const body = Buffer.from(await res.arrayBuffer());
    if (expectedBytes !== undefined && body.length < expectedBytes) return 'truncate';
  } catch {
    return 'truncate';
  }
  return String(res.status) as Outcome;
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

const N = 400;
const TOLERANCE = 0.04;

describe('faults under a fixed seed', () => {
  it('injects 429 (with Retry-After), 500, 502, reset and slow at about their rates', async () => {
    const rates = { '429': 0.1, '500': 0.05, '502': 0.05, reset: 0.05, slow: 0.05 };
    const simulator = await sim({ faults: rates, slowSeconds: 0.01, seed: 11 });
    const outcomes: Outcome[] = [];
    for (let i = 0; i < N; i++)
      outcomes.push(await outcome(() => get(simulator.url, 'task_unknown')));
    const counts = tally(outcomes);
    const injected = simulator.stats().faults;
    for (const kind of ['429', '500', '502', 'reset'] as const) {
      expect(
        Math.abs((counts[kind] ?? 0) / N - rates[kind]),
        `${kind}: ${JSON.stringify(counts)}`,
      ).toBeLessThan(TOLERANCE);
      expect(injected[kind]).toBe(counts[kind]);
    }
    expect(Math.abs(injected.slow / N - rates.slow)).toBeLessThan(TOLERANCE);
    // A slow answer is still the right answer: 404 for this unknown task.
    expect(counts['404']).toBe(
      N - injected['429'] - injected['500'] - injected['502'] - injected.reset,
    );
    expect(simulator.stats().requests['GET /v1/videos/:id']).toBe(N);
  });

  it('cuts downloads short at about the truncate rate, with a full Content-Length', async () => {
    const simulator = await sim({ faults: 'truncate=0.2', seed: 5 });
    const task = await render(simulator.url);
    const video = (task.metadata as { url: string }).url;
    // Ranges keep 200 downloads cheap; a cut applies to a range as to a whole file.
    const range = { range: 'bytes=0-4095' };
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 200; i++)
      outcomes.push(await outcome(() => fetch(video, { headers: range }), 4096));
    const counts = tally(outcomes);
    expect(Math.abs((counts.truncate ?? 0) / 200 - 0.2), JSON.stringify(counts)).toBeLessThan(0.06);
    expect(simulator.stats().faults.truncate).toBe(counts.truncate);
    expect((counts.truncate ?? 0) + (counts['206'] ?? 0)).toBe(200);
  });

  it('gives the same faults in the same order under the same seed', async () => {
    const run = async () => {
      const simulator = await sim({ faults: '429=0.2,500=0.2', seed: 99 });
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 50; i++) outcomes.push(await outcome(() => get(simulator.url, 'task_x')));
      return outcomes.join(',');
    };
    expect(await run()).toBe(await run());
  });

  it('answers slowly when told to, then correctly', async () => {
    const simulator = await sim({ faults: { slow: 1 }, slowSeconds: 0.3 });
    const started = Date.now();
    expect((await post(simulator.url, BODY)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe('POST is not idempotent', () => {
  it('never creates a task on 429', async () => {
    const simulator = await sim({ faults: { '429': 1 } });
    for (let i = 0; i < 20; i++) expect((await post(simulator.url, BODY)).status).toBe(429);
    expect(simulator.ledger().totals.submissions).toBe(0);
  });

  it.each(['500', 'reset'] as const)(
    'creates the task about half the time on %s: the ledger shows it',
    async (fault) => {
      const state = tempDir('shotlist-sim-faults-');
      onTestFinished(() => state.cleanup());
      const simulator = await sim({ faults: { [fault]: 1 }, seed: 21, stateDir: state.dir });
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 100; i++) {
        outcomes.push(
          await outcome(() => post(simulator.url, BODY, { 'idempotency-key': `k${i}` })),
        );
      }
      expect(tally(outcomes)).toEqual({ [fault]: 100 });
      const { submissions, totals } = simulator.ledger();
      expect(totals.ambiguous_submissions).toBe(submissions.length);
      expect(submissions.length).toBeGreaterThan(35);
      expect(submissions.length).toBeLessThan(65);
      expect(
        submissions.every((s) => s.fault === fault && /^k\d+$/.test(s.idempotency_key ?? '')),
      ).toBe(true);
      // The task really exists: the same simulator, restarted without faults, serves it.
      const first = submissions[0]!;
      await simulator.close();
      const healthy = await sim({ stateDir: state.dir });
      const res = await fetch(`${healthy.url}/v1/videos/${first.id}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe(first.id);
    },
  );

  it('does not inject faults into the /__sim/ routes', async () => {
    const simulator = await sim({ faults: { '500': 1 } });
    for (let i = 0; i < 10; i++)
      expect((await fetch(`${simulator.url}/__sim/ledger`)).status).toBe(200);
  });
});
