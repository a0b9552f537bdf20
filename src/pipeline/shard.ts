/**
 * Shards for a CI matrix: `run --shard i/n` renders the shots whose stable identity hashes to
 * shard i of n. The identity is the shot id, variant and take (`takeKey`), never the request
 * body: editing a prompt or adding a shot moves no other shot to another shard, so a matrix
 * job re-run after an edit finds its own journal and renders only what changed. A chain (shots
 * starting on another's frame) takes its root shot's identity, so it is rendered whole by one
 * shard. Changing n reshuffles everything: keep n fixed for a campaign.
 */
import { createHash } from 'node:crypto';
import { UsageError, adviceText } from '../errors.js';
import { pickKey, shotLabel, takeKey } from '../manifest/identity.js';
import { sumMoney } from '../plan/money.js';
import type { Plan, PlannedShot } from '../plan/types.js';

/** Shard `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** The identity a shot is hashed by: which group of shots must stay together. */
export type GroupOf = (shot: PlannedShot) => string;

/** `i/n` with 1 ≤ i ≤ n as a shard, else undefined. */
export function shardOf(text: string): ShardSpec | undefined {
  const m = /^\s*(\d{1,6})\s*\/\s*(\d{1,6})\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) return undefined;
  return { index, count };
}

/**
 * Parses `i/n` (1 ≤ i ≤ n) as a shard folder records it; anything else is a usage error. The
 * command line words its own (`--shard`): see src/cli/config.ts.
 */
export function parseShard(text: string): ShardSpec {
  const spec = shardOf(text);
  if (!spec) {
    throw new UsageError(
      `shard ${JSON.stringify(text)} is not a shard i/n with 1 ≤ i ≤ n`,
      'write it as i/n, e.g. 1/3, 2/3 and 3/3 for three shards',
    );
  }
  return spec;
}

/** `shard 2/3`, as output says it. */
export function shardName(spec: ShardSpec): string {
  return `shard ${spec.index}/${spec.count}`;
}

/** The shard (1-based) of `count` that an identity belongs to: the same on every machine. */
export function shardOfIdentity(identity: string, count: number): number {
  const hash = createHash('sha256').update(identity).digest();
  return (hash.readUInt32BE(0) % count) + 1;
}

/** Every shot is its own group: the default when no shots depend on each other. */
export const ownGroup: GroupOf = (shot) => takeKey(shot);

/**
 * The root of each chain of `shots` (by id and variant): the first shot, in manifest order, of
 * the set of shots linked by chained frames (a shot and the shots it takes frames from, down
 * and up every link). A shot in no chain has none.
 */
function chainRoots(shots: readonly PlannedShot[]): Map<string, PlannedShot> {
  const at = pickKey;
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  const first = new Map<string, PlannedShot>();
  for (const s of shots) if (!first.has(at(s.id, s.variant))) first.set(at(s.id, s.variant), s);
  const order = [...first.keys()];
  const rank = new Map(order.map((k, i) => [k, i]));
  for (const s of shots) {
    for (const dep of s.depends_on ?? []) {
      const a = find(at(s.id, s.variant));
      const b = find(at(dep.from, s.variant));
      if (a === b || !first.has(at(dep.from, s.variant))) continue;
      // The earlier shot stays the root, so the identity does not depend on link order.
      const [keep, drop] = rank.get(a)! < rank.get(b)! ? [a, b] : [b, a];
      parent.set(drop, keep);
    }
  }
  const roots = new Map<string, PlannedShot>();
  for (const k of order) {
    if (!parent.has(k)) continue;
    const root = first.get(find(k))!;
    roots.set(k, { ...root, take: 1 });
  }
  return roots;
}

/**
 * Groups that must be rendered by one shard. A shot whose body is the same as an earlier
 * shot's (`shared_with`) is not sent: it waits for that shot's clip, so it goes where that
 * shot goes, and the body is submitted once over all shards. A chain (shots that start from
 * another's frame) goes where its root shot's first take goes, so it never splits across
 * shards, and adding an unrelated shot moves no other.
 */
export function sharedGroups(whole: Pick<Plan, 'shots'>): GroupOf {
  const byLabel = new Map(
    whole.shots.filter((s) => s.shared_with === undefined).map((s) => [shotLabel(s), s]),
  );
  const roots = chainRoots(whole.shots);
  const chained = (shot: PlannedShot) => roots.get(pickKey(shot.id, shot.variant)) ?? shot;
  return (shot) => {
    const source = shot.shared_with !== undefined ? byLabel.get(shot.shared_with) : undefined;
    return ownGroup(chained(source ?? shot));
  };
}

/** Whether a shot belongs to a shard. */
export function inShard(shot: PlannedShot, spec: ShardSpec, groupOf: GroupOf = ownGroup): boolean {
  return shardOfIdentity(groupOf(shot), spec.count) === spec.index;
}

/**
 * The part of `plan` that shard `spec` renders, with its totals counted over those shots only
 * and the budget verdict of the whole plan (a limit is the manifest's, not a shard's). `whole` (default `plan`) is the unfiltered plan the groups
 * are taken from, so `--only` cannot split a group. Without a shard, `plan` as it is.
 */
export function shardPlan(
  plan: Plan,
  spec: ShardSpec | undefined,
  whole: Pick<Plan, 'shots'> = plan,
): Plan {
  if (!spec) return plan;
  const groupOf = sharedGroups(whole);
  const shots = plan.shots.filter((s) => inShard(s, spec, groupOf));
  const rendered = shots.filter((s) => s.shared_with === undefined);
  const seconds = rendered.reduce((n, s) => n + s.seconds, 0);
  const unpriced = rendered.reduce((n, s) => n + (s.cost === null ? s.seconds : 0), 0);
  const currency = plan.totals.currency;
  const cost = sumMoney(
    rendered.map((s) => s.cost),
    currency,
  );
  return {
    ...plan,
    shots,
    totals: { shots: shots.length, seconds, cost, currency, unpriced_seconds: unpriced },
    // The budget is the whole run's: shards of a run that fits cannot together exceed it.
    budget: plan.budget,
  };
}

/** Seconds and cost of the shots of `whole` that `part` (one shard of it) does not hold. */
export interface OutsideShard {
  shots: number;
  seconds: number;
  cost: number | null;
  unpriced_seconds: number;
}

/**
 * What the other shards of a run will send, counted as new: a shard's folder cannot see their
 * journals, so a shard's budget check holds for the whole manifest's run whatever they did.
 */
export function outsideShard(
  whole: Pick<Plan, 'shots' | 'totals'>,
  part: Pick<Plan, 'shots'>,
): OutsideShard {
  const mine = new Set(part.shots.map(takeKey));
  const rendered = whole.shots.filter((s) => !mine.has(takeKey(s)) && s.shared_with === undefined);
  return {
    shots: rendered.length,
    seconds: rendered.reduce((n, s) => n + s.seconds, 0),
    cost: sumMoney(
      rendered.map((s) => s.cost),
      whole.totals.currency,
    ),
    unpriced_seconds: rendered.reduce((n, s) => n + (s.cost === null ? s.seconds : 0), 0),
  };
}

/** `shard 1/3: 4 of 12 shots`: what a shard's plan covers. */
export function shardSummary(spec: ShardSpec, shots: number, of: number): string {
  return `${shardName(spec)}: ${shots} of ${of} shots`;
}

/** Said at the end of a shard's run instead of stitching. */
export function notStitchedNote(spec: ShardSpec): string {
  return `${shardName(spec)}: not stitched (a shard holds part of each final); ${adviceText({ kind: 'merge_shards' })}`;
}
