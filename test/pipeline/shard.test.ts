import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  inShard,
  parseShard,
  shardOfIdentity,
  shardPlan,
  outsideShard,
  sharedGroups,
} from '../../src/pipeline/shard.js';
import { takeKey } from '../../src/manifest/identity.js';
import type { Plan, PlannedShot } from '../../src/plan/types.js';

function shot(
  id: string,
  prompt = `prompt of ${id}`,
  extra: Partial<PlannedShot> = {},
): PlannedShot {
  return {
    id,
    variant: null,
    take: 1,
    mode: 'text_to_video',
    model: 'seedance-2-official',
    size: '480p',
    ratio: '16:9',
    seconds: 4,
    audio: true,
    prompt,
    unit_price: 1,
    cost: 4,
    currency: 'CNY',
    request: { model: 'seedance-2-official', prompt },
    source: { file: 'film.yaml', line: 1, col: 1 },
    ...extra,
  };
}

function planOf(shots: PlannedShot[], maxCost: number | null = null): Plan {
  return {
    manifest: { file: 'film.yaml', name: 'film' },
    concurrency: null,
    shots,
    totals: { shots: shots.length, seconds: 0, cost: 0, currency: 'CNY', unpriced_seconds: 0 },
    budget: { max_cost: maxCost, max_seconds: null, ok: true, reason: null },
    stitch: null,
    order: shots.map((s) => s.id),
    variants: [null],
    warnings: [],
  };
}

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);

/** The shard each shot of a plan lands in, by id. */
function assignment(plan: Plan, count: number): Map<string, number> {
  const where = new Map<string, number>();
  for (let index = 1; index <= count; index++)
    for (const s of shardPlan(plan, { index, count }).shots) where.set(s.id, index);
  return where;
}

describe('parseShard', () => {
  it('reads i/n with 1 ≤ i ≤ n', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
  });
  it.each(['0/3', '4/3', '3', '1/0', 'a/b', '-1/3', '1/3/4', ''])(
    'refuses %j with the fix',
    (text) => {
      expect(() => parseShard(text)).toThrow(UsageError);
      expect(() => parseShard(text)).toThrow(/i\/n/);
    },
  );
});

describe('shard assignment', () => {
  const shots = ids(300).map((id) => shot(id));
  const plan = planOf(shots);

  it('puts every shot in exactly one shard', () => {
    const seen = new Map<string, number>();
    for (let index = 1; index <= 4; index++)
      for (const s of shardPlan(plan, { index, count: 4 }).shots)
        seen.set(s.id, (seen.get(s.id) ?? 0) + 1);
    expect(seen.size).toBe(300);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('is roughly balanced: 300 shots over 3 shards, each within 30 % of 100', () => {
    for (let index = 1; index <= 3; index++) {
      const k = shardPlan(plan, { index, count: 3 }).shots.length;
      expect(k).toBeGreaterThanOrEqual(70);
      expect(k).toBeLessThanOrEqual(130);
    }
  });

  it('moves no shot when a shot is added, removed or a prompt edited', () => {
    const before = assignment(plan, 3);
    const edited = planOf([
      shot('s000-new'),
      ...shots.slice(0, 150),
      ...shots.slice(151).map((s, i) => (i === 7 ? shot(s.id, 'a new prompt entirely') : s)),
    ]);
    const after = assignment(edited, 3);
    for (const [id, where] of after) if (before.has(id)) expect(where, id).toBe(before.get(id));
    expect(after.size).toBe(300);
  });

  it('is the same on every machine: a fixed hash of id, variant and take', () => {
    expect(shardOfIdentity('s01\u0000\u00001', 3)).toBe(shardOfIdentity('s01\u0000\u00001', 3));
    const takes = [1, 2, 3, 4, 5, 6].map((take) =>
      inShard(shot('s01', 'p', { take }), { index: 1, count: 2 }),
    );
    // Takes are separate renders: they spread like shots (not all in one shard).
    expect(new Set(takes).size).toBe(2);
  });
});

describe('groups', () => {
  it("keeps a shot whose body is shared with an earlier one in that shot's shard", () => {
    const shots = ids(60).map((id, i) =>
      i % 2 === 0
        ? shot(id, `body ${i}`)
        : shot(id, `body ${i - 1}`, { shared_with: `s${String(i).padStart(3, '0')}` }),
    );
    const plan = planOf(shots);
    const where = assignment(plan, 3);
    for (const s of shots.filter((x) => x.shared_with))
      expect(where.get(s.id), s.id).toBe(where.get(s.shared_with!));
    const groupOf = sharedGroups(plan);
    expect(groupOf(shots[1]!)).toBe(groupOf(shots[0]!));
    expect(groupOf(shots[2]!)).not.toBe(groupOf(shots[0]!));
  });

  /** Chains of `length` shots (c01-1 <- c01-2 <- ...), each starting on the last frame before. */
  function chains(count: number, length: number): PlannedShot[] {
    return Array.from({ length: count }, (_, c) =>
      Array.from({ length }, (_, l) => {
        const id = `c${String(c + 1).padStart(2, '0')}-${l + 1}`;
        const from = `c${String(c + 1).padStart(2, '0')}-${l}`;
        return shot(id, `chain ${c} link ${l}`, {
          ...(l > 0 ? { depends_on: [{ from, frame: 'last' as const, image: 0 }] } : {}),
        });
      }),
    ).flat();
  }

  it('keeps a chain in one shard: the shard of its root shot, whatever its other links hash to', () => {
    const shots = chains(30, 4);
    const where = assignment(planOf(shots), 3);
    for (let c = 1; c <= 30; c++) {
      const chain = shots.filter((s) => s.id.startsWith(`c${String(c).padStart(2, '0')}-`));
      const root = chain[0]!;
      expect(new Set(chain.map((s) => where.get(s.id))), root.id).toEqual(
        new Set([shardOfIdentity(takeKey(root), 3)]),
      );
    }
    // Their own ids would have split the chains: the grouping is what keeps them whole.
    const split = shots.filter((s) => s.depends_on && inShard(s, { index: 1, count: 3 }));
    expect(split.some((s) => where.get(s.id) !== 1)).toBe(true);
    // And chains still spread over every shard.
    expect(new Set(where.values())).toEqual(new Set([1, 2, 3]));
  });

  it('adding an unrelated shot or a link at the end of a chain moves no other shot', () => {
    const shots = chains(30, 4);
    const before = assignment(planOf(shots), 3);
    const longer = shot('c05-5', 'a new last link', {
      depends_on: [{ from: 'c05-4', frame: 'last', image: 0 }],
    });
    const after = assignment(planOf([shot('a-new-shot'), ...shots, longer]), 3);
    for (const [id, where] of before) expect(after.get(id), id).toBe(where);
    expect(after.get('c05-5')).toBe(before.get('c05-1'));
  });

  it('a shot taking frames from two chains joins them: all in one shard, every take', () => {
    const shots = [
      ...chains(2, 2),
      shot('both', 'first and last frame', {
        depends_on: [
          { from: 'c02-2', frame: 'last', image: 0 },
          { from: 'c01-2', frame: 'first', image: 1 },
        ],
      }),
      shot('both', 'first and last frame', {
        take: 2,
        depends_on: [
          { from: 'c02-2', frame: 'last', image: 0 },
          { from: 'c01-2', frame: 'first', image: 1 },
        ],
      }),
    ];
    const groupOf = sharedGroups(planOf(shots));
    // The earliest shot of the joined chains is the root.
    expect(new Set(shots.map(groupOf))).toEqual(new Set([takeKey(shots[0]!)]));
  });

  it("counts only the shard's shots in its totals; the budget verdict stays the whole plan's", () => {
    const shots = ids(30).map((id) => shot(id));
    // 30 shots at 4: 120 over a limit of 100, though each shard alone (about 40) fits.
    const plan = {
      ...planOf(shots, 100),
      totals: { shots: 30, seconds: 120, cost: 120, currency: 'CNY', unpriced_seconds: 0 },
      budget: { max_cost: 100, max_seconds: null, ok: false, reason: 'cost 120 exceeds' },
    };
    const part = shardPlan(plan, { index: 1, count: 3 });
    expect(part.totals.shots).toBe(part.shots.length);
    expect(part.totals.seconds).toBe(4 * part.shots.length);
    expect(part.totals.cost).toBe(4 * part.shots.length);
    expect(part.totals.cost).toBeLessThan(100);
    expect(part.budget).toEqual(plan.budget);
    const outside = outsideShard(plan, part);
    expect(outside.shots).toBe(30 - part.shots.length);
    expect(outside.cost).toBe(120 - 4 * part.shots.length);
    expect(outside.seconds + part.totals.seconds).toBe(120);
    expect(shardPlan(plan, undefined)).toBe(plan);
  });
});

describe('the resume hint of a shard', () => {
  it('carries --shard, so following it renders the same shard into the same folder', async () => {
    const { runCommandLine } = await import('../../src/cli/common.js');
    const line = runCommandLine(
      'film.yaml',
      { shard: '2/3', yes: true },
      { source: 'flag', apiBase: 'http://127.0.0.1:9', journalBase: 'http://127.0.0.1:9' },
    );
    expect(line).toBe('shotlist run film.yaml --base-url http://127.0.0.1:9 --shard 2/3 --yes');
  });
});
