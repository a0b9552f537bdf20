import { describeFrame } from '../manifest/frames.js';
import { formatMoney as money } from './money.js';
import { upscaleNotes } from './export-notes.js';
import type { Plan, PlannedShot } from './types.js';

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => {
          const pad = ' '.repeat(widths[c]! - [...cell].length);
          return rightAligned.has(c) ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export interface PlanTableOptions {
  /** Extra per-shot column, e.g. `new` / `cached` from the journal. */
  state?: (shot: PlannedShot) => string;
}

/** The per-shot table, totals and budget verdict people read before spending. Pure. */
export function formatPlan(plan: Plan, options: PlanTableOptions = {}): string {
  const hasVariants = plan.variants.some((v) => v !== null);
  const hasTakes = plan.shots.some((s) => s.take > 1);
  const hasShared = plan.shots.some((s) => s.shared_with !== undefined);
  const hasFrames = plan.shots.some((s) => s.depends_on !== undefined);
  const header = [
    ...(hasVariants ? ['variant'] : []),
    'shot',
    ...(hasTakes ? ['take'] : []),
    'mode',
    'model',
    'size',
    'ratio',
    'seconds',
    'unit price',
    'cost',
    ...(hasShared ? ['shared'] : []),
    ...(hasFrames ? ['waits for'] : []),
    ...(options.state ? ['state'] : []),
  ];
  const rows = plan.shots.map((s) => [
    ...(hasVariants ? [s.variant ?? ''] : []),
    s.id,
    ...(hasTakes ? [s.added_by ? `${s.take} (re-roll, from ${s.added_by})` : String(s.take)] : []),
    s.mode,
    s.model,
    s.size,
    s.ratio,
    String(s.seconds),
    s.unit_price === null ? 'not set' : String(s.unit_price),
    money(s.cost, s.currency),
    ...(hasShared ? [s.shared_with ? `shared with ${s.shared_with}` : ''] : []),
    ...(hasFrames ? [(s.depends_on ?? []).map(describeFrame).join(', ')] : []),
    ...(options.state ? [options.state(s)] : []),
  ]);
  const numeric = new Set([
    header.indexOf('seconds'),
    header.indexOf('unit price'),
    header.indexOf('cost'),
  ]);
  const lines = [
    `${plan.manifest.name} (${plan.manifest.file})`,
    '',
    table([header, ...rows], numeric),
    '',
  ];
  const noted = new Set<string>();
  for (const s of plan.shots) {
    if (s.note === undefined || noted.has(s.note)) continue;
    noted.add(s.note);
    lines.push(`note: ${s.note}`);
  }
  if (noted.size > 0) lines.push('');
  const upscaled = upscaleNotes(plan);
  if (upscaled.length > 0) lines.push(...upscaled, '');
  const t = plan.totals;
  lines.push(
    `total: ${t.shots} shot${t.shots === 1 ? '' : 's'}, ${t.seconds} billable seconds, cost ${
      t.cost === null ? 'unknown (no prices set)' : money(t.cost, t.currency)
    }`,
  );
  if (t.unpriced_seconds > 0 && t.cost !== null) {
    lines.push(
      `  plus ${t.unpriced_seconds} seconds of models (or sizes) without a price in pricing.per_second`,
    );
  } else if (t.cost === null) {
    lines.push(
      '  price not set: add pricing.per_second.<model> (one price, or one per size) to see the cost',
    );
  }
  const b = plan.budget;
  const totals = [
    ...(b.max_total_cost != null ? [`max_total_cost ${money(b.max_total_cost, t.currency)}`] : []),
    ...(b.max_total_seconds != null ? [`max_total_seconds ${b.max_total_seconds}`] : []),
  ];
  if (b.max_cost === null && b.max_seconds === null && totals.length === 0)
    lines.push('budget: none set');
  else if (b.ok) {
    const parts = [
      ...(b.max_cost !== null ? [`max_cost ${money(b.max_cost, t.currency)}`] : []),
      ...(b.max_seconds !== null ? [`max_seconds ${b.max_seconds}`] : []),
    ];
    if (parts.length > 0) lines.push(`budget: ok (${parts.join(', ')})`);
  } else lines.push(`budget: EXCEEDED: ${b.reason}`);
  if (totals.length > 0 && b.job) {
    const j = b.job;
    const m = (f: { seconds: number; cost: number | null }) =>
      `${f.seconds} s (${money(f.cost ?? 0, t.currency)})`;
    const state = !b.ok
      ? 'EXCEEDED'
      : b.over_total
        ? 'already EXCEEDED (nothing new to send, so nothing is refused)'
        : 'ok';
    lines.push(
      `budget over every run: ${totals.join(', ')}: ${state}: ${m(j.billed)} billed so far + ${m(j.at_risk)} at risk + ${m(j.this_run)} this run (the journal in the output folder)`,
    );
  } else if (totals.length > 0)
    lines.push(`budget over every run: ${totals.join(', ')} (run checks them against the journal)`);
  if (plan.assets?.length) {
    lines.push(`local files, uploaded before the first submission (${plan.assets.length}):`);
    for (const a of plan.assets)
      lines.push(`  ${a.refs.join(', ')} -> ${a.url || '(no uploads section: no URL)'}`);
  }
  return `${lines.join('\n')}\n`;
}
