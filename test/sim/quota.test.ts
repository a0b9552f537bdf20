import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountRefusal } from '../../src/api/retry.js';
import { UsageError } from '../../src/errors.js';
import { parseQuotas } from '../../src/sim/quota.js';
import { BODY, manualClock, post, sim } from './helpers.js';

const OTHER = 'sk-other-key-4455';

async function errorOf(res: Response) {
  const json = (await res.json()) as { error: { message: string; type: string; code: string } };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ...json.error };
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('simulator accounts', () => {
  it('parses KEY=SECONDS entries, repeated or joined by commas; a bad one names its place, not the key', () => {
    expect(parseQuotas(['sk-a=8', 'sk-b=0,sk-c=2.5'])).toEqual({
      'sk-a': 8,
      'sk-b': 0,
      'sk-c': 2.5,
    });
    for (const bad of ['sk-secret', 'sk-secret=-1', 'sk-secret=lots', '=5']) {
      let err: unknown;
      try {
        parseQuotas(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).not.toContain('sk-secret');
    }
    expect(() => parseQuotas('sk-a=1,sk-a=2')).toThrow(/given before/);
  });

  it('each key spends its own quota; once spent a POST gets 403 in the gateway shape and creates nothing', async () => {
    const s = await sim({ quota: { 'sk-one-0001': 8, [OTHER]: 4 }, apiKey: undefined });
    expect((await post(s.url, BODY, as('sk-one-0001'))).status).toBe(200);
    expect((await post(s.url, BODY, as('sk-one-0001'))).status).toBe(200);
    const refused = await errorOf(await post(s.url, BODY, as('sk-one-0001')));
    expect(refused).toMatchObject({
      status: 403,
      code: 'insufficient_user_quota',
      type: 'insufficient_quota',
    });
    expect(refused.message).toMatch(/quota exhausted: this key has 0 s of its 8 s left/);
    expect((await post(s.url, BODY, as(OTHER))).status).toBe(200);
    expect((await errorOf(await post(s.url, BODY, as(OTHER)))).status).toBe(403);
    // Only the quota keys are accepted once quotas are given.
    expect((await post(s.url, BODY, as('sk-stranger-99'))).status).toBe(401);
    expect(s.ledger().totals.submissions).toBe(3);
  });

  it('a key at its cap of open tasks gets 429 with Retry-After until one ends', async () => {
    const clock = manualClock();
    const s = await sim({ keyConcurrency: 2, latency: 10, clock: clock.now });
    expect((await post(s.url, BODY)).status).toBe(200);
    expect((await post(s.url, BODY)).status).toBe(200);
    const busy = await errorOf(await post(s.url, BODY));
    expect(busy).toMatchObject({
      status: 429,
      code: 'concurrency_limit_exceeded',
      retryAfter: '1',
    });
    clock.advance(11);
    expect((await post(s.url, BODY)).status).toBe(200);
    expect(s.ledger().totals.submissions).toBe(3);
  });

  it('a restarted simulator remembers what each key spent, and stores no key', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'shotlist-sim-quota-'));
    try {
      const first = await sim({ quota: { [OTHER]: 8 }, stateDir });
      expect((await post(first.url, BODY, as(OTHER))).status).toBe(200);
      await first.close();
      const again = await sim({ quota: { [OTHER]: 8 }, stateDir });
      expect((await post(again.url, BODY, as(OTHER))).status).toBe(200);
      expect((await post(again.url, BODY, as(OTHER))).status).toBe(403);
      expect(readFileSync(path.join(stateDir, 'tasks.ndjson'), 'utf8')).not.toContain(OTHER);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('accountRefusal', () => {
  it('tells a spent quota from a refused key by the server words', () => {
    expect(accountRefusal(401, { code: 'invalid_api_key' })).toBe('key');
    expect(accountRefusal(403, { message: 'key not allowed for this model' })).toBe('key');
    expect(accountRefusal(403, { code: 'insufficient_user_quota' })).toBe('quota');
    expect(accountRefusal(403, { message: '用户额度不足' })).toBe('quota');
    expect(accountRefusal(429, { code: 'insufficient_quota' })).toBe('quota');
    expect(accountRefusal(429, { code: 'rate_limit_exceeded' })).toBeUndefined();
    expect(accountRefusal(400, { message: 'quota' })).toBeUndefined();
  });
});
