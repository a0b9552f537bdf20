import { describe, expect, it } from 'vitest';
import { ApiError, ManifestError, formatDiagnostic } from '../../src/errors.js';
import { parseAccountsFile } from '../../src/render/accounts-file.js';
import {
  AccountPool,
  MAX_FAILING,
  chooseAccount,
  type PoolMember,
} from '../../src/render/accounts.js';
import type { RenderEvent } from '../../src/render/events.js';

const KEYS: Record<string, string> = {
  KEY_MAIN: 'sk-main-1234567890',
  KEY_SPARE: 'sk-spare-0987654321',
};
const keyOf = (name: string) => KEYS[name];

/** The formatted problems of a file that does not parse. */
function problems(text: string, lookup = keyOf): string[] {
  try {
    parseAccountsFile(text, 'accounts.yaml', lookup);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).diagnostics.map(formatDiagnostic);
  }
  throw new Error('the file was accepted');
}

describe('the accounts file', () => {
  it('reads accounts with their base URL normalised, concurrency and optional rpm', () => {
    const file = parseAccountsFile(
      `accounts:
  - name: main
    base_url: HTTPS://CDN.12ai.org:443/
    key_env: KEY_MAIN
    concurrency: 4
  - { name: spare, base_url: https://cdn.12ai.org, key_env: KEY_SPARE, concurrency: 2, rpm: 30 }
`,
      'accounts.yaml',
      keyOf,
    );
    expect(file.baseUrl).toBe('https://cdn.12ai.org');
    expect(file.accounts).toEqual([
      { name: 'main', baseUrl: 'https://cdn.12ai.org', keyEnv: 'KEY_MAIN', concurrency: 4 },
      {
        name: 'spare',
        baseUrl: 'https://cdn.12ai.org',
        keyEnv: 'KEY_SPARE',
        concurrency: 2,
        rpm: 30,
      },
    ]);
  });

  it('reports every problem at once, at file:line:col, with the fix', () => {
    const found = problems(`accounts:
  - name: main
    base_url: https://cdn.12ai.org
    key_env: KEY_MAIN
    concurency: 4
  - name: main
    base_url: https://cdn.12ai.org
    key_env: KEY_SPARE
    concurrency: 0
  - name: third
    base_url: http://api.example.com
    key_env: KEY_MISSING
    concurrency: 2
    rpm: -1
`);
    expect(found).toEqual([
      expect.stringMatching(
        /^accounts\.yaml:5:5: error: unknown field "concurency" in account 1\n {2}fix: did you mean concurrency\?/,
      ),
      expect.stringMatching(/^accounts\.yaml:2:5: error: account main: concurrency is missing/),
      expect.stringMatching(
        /^accounts\.yaml:6:11: error: account name "main" is given twice \(first at line 2\)/,
      ),
      expect.stringMatching(
        /^accounts\.yaml:9:18: error: account main: concurrency 0 is not a whole number/,
      ),
      expect.stringMatching(
        /^accounts\.yaml:11:15: error: account third: refusing plain http for api\.example\.com/,
      ),
      expect.stringMatching(
        /^accounts\.yaml:12:14: error: account third: its key variable KEY_MISSING is not set\n {2}fix: export KEY_MISSING=<the key of account third>/,
      ),
      expect.stringMatching(
        /^accounts\.yaml:14:10: error: account third: rpm -1 is not a number above 0/,
      ),
    ]);
  });

  it('refuses a name given twice, naming the first line', () => {
    const found = problems(`accounts:
  - { name: main, base_url: https://cdn.12ai.org, key_env: KEY_MAIN, concurrency: 4 }
  - { name: main, base_url: https://cdn.12ai.org, key_env: KEY_SPARE, concurrency: 4 }
`);
    expect(found).toEqual([
      expect.stringMatching(
        /^accounts\.yaml:3:13: error: account name "main" is given twice \(first at line 2\)/,
      ),
    ]);
  });

  it('never prints a key: a missing variable is named, a set one never shown', () => {
    const found = problems(
      `accounts:
  - { name: main, base_url: https://cdn.12ai.org, key_env: KEY_MAIN, concurrency: 4, extra: 1 }
  - { name: spare, base_url: https://cdn.12ai.org, key_env: KEY_SPARE, concurrency: 4 }
`,
      (name) => (name === 'KEY_MAIN' ? KEYS.KEY_MAIN : undefined),
    );
    expect(found.join('\n')).toMatch(/KEY_SPARE is not set/);
    for (const key of Object.values(KEYS)) expect(found.join('\n')).not.toContain(key);
  });

  it('refuses accounts of different APIs in one file (the journal keys shots by one base URL)', () => {
    const found = problems(`accounts:
  - { name: main, base_url: https://cdn.12ai.org, key_env: KEY_MAIN, concurrency: 4 }
  - { name: spare, base_url: https://other.example.com, key_env: KEY_SPARE, concurrency: 4 }
`);
    expect(found).toEqual([
      expect.stringMatching(
        /^accounts\.yaml:3:30: error: account spare sends to https:\/\/other\.example\.com, account main to https:\/\/cdn\.12ai\.org: the accounts of one file share one API/,
      ),
    ]);
  });

  it('refuses a file that is not an accounts list, and unknown top-level fields', () => {
    expect(problems('- just a list\n')[0]).toMatch(
      /^accounts\.yaml:1:1: error: an accounts file is a map/,
    );
    expect(problems('accounts: []\nkeys: 1\n')).toEqual([
      expect.stringMatching(/^accounts\.yaml:2:1: error: unknown field "keys"/),
      expect.stringMatching(
        /^accounts\.yaml:1:11: error: `accounts` must be a list of one account or more/,
      ),
    ]);
    expect(problems('accounts:\n  - a: 1\n  a: 2\n')[0]).toMatch(
      /^accounts\.yaml:\d+:\d+: error: /,
    );
  });

  it('without a key lookup (a dry run) does not ask for the keys', () => {
    const file = parseAccountsFile(
      'accounts:\n  - { name: a, base_url: https://cdn.12ai.org, key_env: UNSET_VAR, concurrency: 1 }\n',
      'accounts.yaml',
    );
    expect(file.accounts[0]!.keyEnv).toBe('UNSET_VAR');
  });
});

describe('chooseAccount: where the next submission goes', () => {
  const room = (free: number, held: number, retired = false) => ({ free, held, retired });

  it('takes the account with the most free places', () => {
    expect(chooseAccount([room(1, 3), room(3, 1), room(2, 0)])).toBe(1);
  });

  it('breaks a tie by the fewest tasks held, then the file order', () => {
    expect(chooseAccount([room(2, 4), room(2, 1), room(2, 1)])).toBe(1);
    expect(chooseAccount([room(2, 1), room(2, 1)])).toBe(0);
  });

  it('skips retired accounts and full ones; none with room is undefined', () => {
    expect(chooseAccount([room(5, 0, true), room(0, 4), room(1, 3)])).toBe(2);
    expect(chooseAccount([room(5, 0, true), room(0, 4)])).toBeUndefined();
    expect(chooseAccount([])).toBeUndefined();
  });

  it('spreads a run over accounts in proportion to their room', () => {
    // Accounts of ceilings 4, 2 and 2 filling up one submission at a time.
    const ceilings = [4, 2, 2];
    const held = [0, 0, 0];
    const order: number[] = [];
    for (;;) {
      const i = chooseAccount(ceilings.map((c, k) => room(c - held[k]!, held[k]!)));
      if (i === undefined) break;
      held[i]!++;
      order.push(i);
    }
    expect(held).toEqual([4, 2, 2]);
    expect(order.slice(0, 3)).toEqual([0, 0, 1]);
  });
});

describe('AccountPool: retiring accounts', () => {
  const client = {
    baseUrl: 'https://cdn.12ai.org',
    stats: () => ({ requests: { submit: 0, poll: 0, download: 0 }, retries: 0 }),
  } as unknown as PoolMember['client'];
  const member = (name: string, concurrency: number): PoolMember => ({
    name,
    baseUrl: 'https://cdn.12ai.org',
    client,
    concurrency,
  });
  const refusal = (code: 'quota_exhausted' | 'unauthorized') =>
    new ApiError('refused', { code, exitCode: 4, serverMessage: `${code} said the gateway` });

  function pool() {
    const events: RenderEvent[] = [];
    const stopped: ApiError[] = [];
    const p = new AccountPool([member('a', 2), member('b', 1)], {
      emit: (e) => events.push(e),
      now: () => 0,
      refuseAll: (err) => stopped.push(err),
    });
    return { p, events, stopped };
  }

  it('a refused account takes no more shots; the others do; all refused stops the run (exit 4)', async () => {
    const { p, events, stopped } = pool();
    const signal = new AbortController().signal;
    const a = (await p.acquire(signal))!;
    expect(a.name).toBe('a');
    a.limiter.dropped();
    p.refused(a, refusal('quota_exhausted'));
    expect(events).toEqual([
      expect.objectContaining({ type: 'account', account: 'a', reason: 'quota', left: 1 }),
    ]);
    expect((await p.acquire(signal))!.name).toBe('b');
    expect(stopped).toEqual([]);
    p.refused(p.byName('b')!, refusal('unauthorized'));
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.exitCode).toBe(4);
    expect(stopped[0]!.message).toMatch(/a \(quota: quota_exhausted said the gateway\); b \(key: /);
    expect(p.outcomes().map((o) => o.retired?.reason)).toEqual(['quota', 'key']);
  });

  it('an account whose submissions keep ending unknown is retired after a few in a row', () => {
    const { p, events } = pool();
    const b = p.byName('b')!;
    for (let i = 1; i < MAX_FAILING; i++) p.failed(b, '502 bad gateway');
    p.created(b);
    for (let i = 1; i < MAX_FAILING; i++) p.failed(b, '502 bad gateway');
    expect(events).toEqual([]);
    p.failed(b, '502 bad gateway');
    expect(events).toEqual([
      expect.objectContaining({ type: 'account', account: 'b', reason: 'failing' }),
    ]);
  });

  it('a submission waiting for room goes to the first account to free a place', async () => {
    const { p } = pool();
    const signal = new AbortController().signal;
    const taken = [await p.acquire(signal), await p.acquire(signal), await p.acquire(signal)];
    expect(taken.map((t) => t!.name).sort()).toEqual(['a', 'a', 'b']);
    for (const t of taken) t!.limiter.created();
    const waiting = p.acquire(signal);
    p.byName('b')!.limiter.ended();
    expect((await waiting)!.name).toBe('b');
  });
});
