import {
  ManifestError,
  UsageError,
  optionText,
  type Diagnostic,
  type OptionName,
} from '../errors.js';
import type { LoadedManifest } from '../manifest/load.js';
import { CLASH_FIX, clashedFile, fileClashes } from '../manifest/file-names.js';
import { resolveShot, type ShotOverrides } from '../manifest/resolve.js';
import { closest } from '../manifest/suggest.js';
import { canonicalJson, checkRequest, effectiveSettings } from '../api/contract.js';
import { checkBudget, type BudgetLimits } from './budget.js';
import { costOf, formatMoney, sumMoney } from './money.js';
import { pickKey, shotLabel } from '../manifest/identity.js';
import { unitPrice } from './pricing.js';
import { buildRequest, shotMode } from '../manifest/request.js';
import { withAssetUrls } from '../manifest/local-assets.js';
import { frameDependencies, unsaidFrameUse, withUpstream } from '../manifest/frames.js';
import type { Plan, PlannedAsset, PlannedShot } from './types.js';

export interface PlanOptions {
  /** Plan one variant only. */
  variant?: string;
  /** Plan these shot ids only. */
  only?: string[];
  /** Settings forced over the manifest (command-line flags). */
  overrides?: ShotOverrides;
  /** Tighter limits than the manifest's budget (e.g. `--max-cost`). */
  budget?: BudgetLimits;
  /** Local asset files and their URLs: the bodies carry the URLs (see `localAssets`). */
  assets?: readonly PlannedAsset[];
  /** Takes beyond a shot's `takes`, per shot id and variant: the re-rolls it has had. */
  extraTakes?: (shot: string, variant: string | null, takes: number) => number;
  /** Where the extra takes come from (the picks file's name): the plan says so of each. */
  extraTakesFrom?: string;
  /** Plan only the shots of each variant this accepts (a re-roll run: the marked ones). */
  shotFilter?: (shot: string, variant: string | null) => boolean;
}

function pick<T extends string>(
  wanted: readonly T[],
  known: readonly string[],
  what: string,
  option: OptionName,
): void {
  for (const name of wanted) {
    if (!known.includes(name)) {
      const guess = closest(name, known);
      throw new UsageError(
        `${optionText(option)} names ${what} "${name}", which the manifest does not have`,
        guess ? `did you mean "${guess}"?` : `use one of: ${known.slice(0, 20).join(', ')}`,
      );
    }
  }
}

/**
 * Turns a validated manifest into the requests a run would send: one per shot, variant and
 * take, with effective settings, billable seconds, cost and the budget verdict. Pure.
 */
export function plan(loaded: LoadedManifest, options: PlanOptions = {}): Plan {
  const { manifest, file } = loaded;
  const scope = planScope(loaded, options);
  const currency = manifest.pricing?.currency ?? null;
  const shots = scope.variantIndexes.flatMap((v) =>
    manifest.shots.flatMap((_, s) => planShotTakes(loaded, s, v, scope, options)),
  );
  // The manifest's own takes were checked when it was loaded; a picks file's re-rolls add more.
  if (options.extraTakes) refuseFileClashes(shots);
  markShared(shots);
  const totals = planTotals(shots, currency);
  return {
    manifest: { file, name: manifest.name },
    concurrency: manifest.concurrency ?? null,
    ...(manifest.rpm !== undefined ? { rpm: manifest.rpm } : {}),
    shots,
    totals,
    budget: planBudget(manifest, options, totals),
    stitch: (manifest.stitch as Record<string, unknown> | undefined) ?? null,
    order: manifest.shots.map((s) => s.id),
    variants: scope.variantIndexes.map((v) => (v === null ? null : manifest.variants![v]!.name)),
    warnings: [
      ...loaded.warnings,
      ...(options.only ? upstreamWarnings(loaded, options.only, scope.only!, shots, currency) : []),
    ],
    ...(options.assets?.length ? { assets: [...options.assets] } : {}),
    ...(manifest.cast ? { cast: manifest.cast } : {}),
  };
}

/** Two shots whose takes (re-rolls included) would write one clip file: an error at the later shot. */
function refuseFileClashes(shots: readonly PlannedShot[]): void {
  const counts = new Map<string, number>();
  const shotOf = (t: PlannedShot) => pickKey(t.id, t.variant);
  for (const t of shots) counts.set(shotOf(t), (counts.get(shotOf(t)) ?? 0) + 1);
  const clashes = fileClashes(shots, (t) => counts.get(shotOf(t)) ?? 1, shotOf);
  if (clashes.length === 0) return;
  const describe = (t: PlannedShot) =>
    t.added_by
      ? `take ${t.take} of shot "${t.id}" (re-roll, from ${t.added_by})`
      : `shot "${t.id}"`;
  throw new ManifestError(
    clashes.map((c) => ({
      severity: 'error' as const,
      ...c.second.source,
      path: '',
      message: `${describe(c.second)} and ${describe(c.first)} would both write ${clashedFile(c)}`,
      fix: `${CLASH_FIX}; or delete extra_takes of the shot in ${c.first.added_by ?? c.second.added_by ?? 'the picks file'}`,
    })),
  );
}

/** What a plan covers: its variants, its shots (`--only` and their upstreams), asset URLs. */
interface PlanScope {
  variantIndexes: (number | null)[];
  /** Shot ids to plan; every shot when absent. */
  only: ReadonlySet<string> | undefined;
  urls: ReadonlyMap<string, string>;
}

function planScope(loaded: LoadedManifest, options: PlanOptions): PlanScope {
  const { manifest } = loaded;
  if (options.variant !== undefined) {
    if (!manifest.variants) {
      throw new UsageError(
        `${optionText('variant')} ${options.variant}: the manifest has no variants`,
        `drop ${optionText('variant')}`,
      );
    }
    pick(
      [options.variant],
      manifest.variants.map((v) => v.name),
      'variant',
      'variant',
    );
  }
  if (options.only) {
    pick(
      options.only,
      manifest.shots.map((s) => s.id),
      'shot',
      'only',
    );
  }
  const variantIndexes: (number | null)[] = manifest.variants
    ? manifest.variants.flatMap((v, i) =>
        options.variant === undefined || v.name === options.variant ? [i] : [],
      )
    : [null];
  // A shot needs the clips its frames come from: they are planned too (cached when done).
  const only = options.only ? new Set(withUpstream(manifest, options.only)) : undefined;
  return {
    variantIndexes,
    only,
    urls: new Map(options.assets?.flatMap((a) => a.refs.map((ref) => [ref, a.url] as const))),
  };
}

/** The planned takes of shot `s` in variant `v`: none when the scope leaves it out. */
function planShotTakes(
  loaded: LoadedManifest,
  s: number,
  v: number | null,
  scope: PlanScope,
  options: PlanOptions,
): PlannedShot[] {
  const { manifest, source, file } = loaded;
  const overrides = options.overrides ?? {};
  const resolved = withAssetUrls(
    resolveShot(manifest, s, v, overrides),
    // No URL yet (no uploads section): the reference stays as written.
    (ref) => scope.urls.get(ref) || undefined,
  );
  if (scope.only && !scope.only.has(resolved.id)) return [];
  if (options.shotFilter && !options.shotFilter(resolved.id, resolved.variant)) return [];
  const { body } = buildRequest(resolved);
  if (Object.keys(overrides).length > 0) checkOverridden(resolved.id, body);
  const model = resolved.model;
  const { size, ratio, seconds, audio } = effectiveSettings(body);
  const currency = manifest.pricing?.currency ?? null;
  const unit = unitPrice(manifest.pricing?.per_second ?? {}, model, size);
  const pos = source.locate(['shots', s]);
  const takes =
    resolved.takes + (options.extraTakes?.(resolved.id, resolved.variant, resolved.takes) ?? 0);
  const from = options.extraTakesFrom ?? 'the picks file';
  const frames = frameDependencies(body.images);
  const note = resolved.frameCastUnsaid ? unsaidFrameUse(resolved).note : undefined;
  return Array.from({ length: takes }, (_, i) => ({
    id: resolved.id,
    variant: resolved.variant,
    take: i + 1,
    mode: shotMode(resolved),
    model,
    size,
    ratio,
    seconds,
    audio,
    prompt: resolved.prompt,
    unit_price: unit,
    cost: unit === null ? null : costOf(unit, seconds, currency),
    currency: unit === null ? null : currency,
    request: body,
    ...(resolved.trim ? { trim: resolved.trim } : {}),
    ...(resolved.transition ? { transition: resolved.transition } : {}),
    ...(manifest.shots[s]?.caption ? { caption: manifest.shots[s].caption } : {}),
    ...(manifest.shots[s]?.voiceover ? { voiceover: manifest.shots[s].voiceover } : {}),
    ...(frames.length > 0 ? { depends_on: frames } : {}),
    ...(resolved.cast ? { cast: resolved.cast } : {}),
    ...(note ? { note } : {}),
    ...(i >= resolved.takes ? { added_by: from } : {}),
    source: { file, line: pos.line, col: pos.col },
  }));
}

/** Command-line settings can make a valid shot invalid: say so before anything is sent. */
function checkOverridden(id: string, body: PlannedShot['request']): void {
  const errors = checkRequest(body).filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new UsageError(
      `with the command-line settings, shot ${id} is not valid: ${errors[0]!.message}`,
      errors[0]!.fix,
    );
  }
}

/** The budget verdict of this plan, with the limits over every run carried for `run`. */
function planBudget(
  manifest: LoadedManifest['manifest'],
  options: PlanOptions,
  totals: Plan['totals'],
): Plan['budget'] {
  const flag = options.budget?.max_cost;
  const fromManifest = manifest.budget?.max_cost;
  const limits: BudgetLimits = {
    max_cost: minDefined(flag, fromManifest),
    max_seconds: minDefined(options.budget?.max_seconds, manifest.budget?.max_seconds),
    ...(flag !== undefined && (fromManifest === undefined || flag < fromManifest)
      ? { max_cost_from: 'options' as const }
      : {}),
  };
  const { seconds, cost, currency, unpriced_seconds } = totals;
  return {
    ...checkBudget(limits, { seconds, cost, unpriced_seconds, currency }),
    // Limits over every run: `run` checks them against the journal.
    ...(manifest.budget?.max_total_cost !== undefined
      ? { max_total_cost: manifest.budget.max_total_cost }
      : {}),
    ...(manifest.budget?.max_total_seconds !== undefined
      ? { max_total_seconds: manifest.budget.max_total_seconds }
      : {}),
  };
}

/** Seconds and cost of what will render: a shot sharing another's clip counts nothing. */
function planTotals(shots: readonly PlannedShot[], currency: string | null): Plan['totals'] {
  let seconds = 0;
  let unpriced = 0;
  const rendered = shots.filter((shot) => shot.shared_with === undefined);
  for (const shot of rendered) {
    seconds += shot.seconds;
    if (shot.cost === null) unpriced += shot.seconds;
  }
  return {
    shots: shots.length,
    seconds,
    cost: sumMoney(
      rendered.map((s) => s.cost),
      currency,
    ),
    currency,
    unpriced_seconds: unpriced,
  };
}

/**
 * Identical bodies of the same take are one render: every later shot with the body of an
 * earlier one shares its clip, costs nothing and is not counted in the totals.
 */
function markShared(shots: PlannedShot[]): void {
  const first = new Map<string, PlannedShot>();
  for (const shot of shots) {
    const body = `${canonicalJson(shot.request)}\n${shot.take}`;
    const source = first.get(body);
    if (!source) {
      first.set(body, shot);
      continue;
    }
    shot.shared_with = shotLabel(source);
    if (shot.cost !== null) shot.cost = 0;
  }
}

/**
 * What `--only` added: the shots whose clips the named ones start from, each with what it
 * costs to render (every variant and take of it), and their total.
 */
function upstreamWarnings(
  loaded: LoadedManifest,
  asked: readonly string[],
  planned: ReadonlySet<string>,
  shots: readonly PlannedShot[],
  currency: string | null,
): Diagnostic[] {
  const added = [...planned].filter((id) => !asked.includes(id));
  if (added.length === 0) return [];
  const s = loaded.manifest.shots.findIndex((shot) => shot.id === added[0]);
  const pos = loaded.source.locate(['shots', s]);
  const priced = (ids: readonly string[]) => {
    const t = planTotals(
      shots.filter((x) => ids.includes(x.id)),
      currency,
    );
    return `${t.seconds} s, ${t.cost === null ? 'unpriced' : formatMoney(t.cost, currency)}`;
  };
  const each = added.map((id) => `${id} (${priced([id])})`).join(', ');
  const total = added.length > 1 ? `; together ${priced(added)}` : '';
  return [
    {
      severity: 'warning',
      file: loaded.file,
      line: pos.line,
      col: pos.col,
      path: `/shots/${s}`,
      message: `${optionText('only')} ${asked.join(',')} also plans ${each}${total}: frames come from their clips (a shot already done is not rendered again and costs nothing)`,
    },
  ];
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
