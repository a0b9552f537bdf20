import path from 'node:path';
import { costLedger, pricesOf, type CostLedger, type Money } from '../../render/cost.js';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { loadManifest } from '../../manifest/load.js';
import { formatMoney } from '../../plan/money.js';
import { plan as makePlan } from '../../plan/plan.js';
import { defaultOutDir } from '../../pipeline/out-dir.js';
import { JOURNAL_FILE, readJournal } from '../../render/journal.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist cost <manifest> [options]

What the job has cost over every run its journal records: billed (completed tasks), failed
(shown apart: not billed) and unknown (a submission whose outcome was not seen, or a task still
running: it may have been billed), per variant and model, priced with the manifest's pricing.
Reads the journal; sends nothing.

Options:
  --out DIR          output folder (default renders/<name> next to the manifest)
  --csv              one CSV table (for invoicing): a row per variant and model, then the total
  --json             one JSON document

Exit 0.
`;

const FLAGS = {
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  out: { type: 'string' },
} as const;

const CSV_HEADER =
  'variant,model,billed_seconds,billed_cost,failed_seconds,failed_cost,unknown_seconds,unknown_cost,currency';

/** A CSV field: quoted when it holds a comma, quote or line break; a formula lead is defused. */
function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csv(ledger: CostLedger, currency: string | null): string {
  const cells = (m: Money) => [m.seconds, m.cost];
  const rows = [
    ...ledger.rows.map((r) => [r.variant ?? '', r.model, r.billed, r.failed, r.atRisk] as const),
    ['total', '', ledger.billed, ledger.failed, ledger.atRisk] as const,
  ].map(([variant, model, billed, failed, atRisk]) =>
    [variant, model, ...cells(billed), ...cells(failed), ...cells(atRisk), currency]
      .map(csvField)
      .join(','),
  );
  return `${[CSV_HEADER, ...rows].join('\n')}\n`;
}

function text(name: string, ledger: CostLedger, currency: string | null): string {
  const m = (x: Money) => `${x.seconds} s · ${formatMoney(x.cost, currency)}`;
  const lines = [
    `${name}: ${ledger.tasks} task${ledger.tasks === 1 ? '' : 's'} over every run`,
    `  billed                ${m(ledger.billed)}`,
    `  failed (not billed)   ${m(ledger.failed)}`,
    `  may have been billed  ${m(ledger.atRisk)}`,
  ];
  for (const r of ledger.rows)
    lines.push(
      `  ${r.variant ?? '(no variant)'} · ${r.model}: billed ${m(r.billed)}; failed ${m(r.failed)}; may have been billed ${m(r.atRisk)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** `shotlist cost`: the job-level ledger read from the journal. */
export default async function cost(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  if (positionals.length !== 1)
    throw new UsageError('cost takes one manifest', 'shotlist cost <manifest> [--csv]');
  if (values.csv && values.json) throw new UsageError('--csv and --json are exclusive', 'pick one');
  const plan = makePlan(await loadManifest(path.resolve(ctx.cwd, positionals[0]!)), {});
  const outDir = path.resolve(ctx.cwd, values.out ?? defaultOutDir(plan.manifest));
  const journal = await readJournal(path.join(outDir, JOURNAL_FILE));
  const ledger = costLedger(journal.entries, pricesOf(plan.shots));
  const currency = plan.totals.currency;
  if (values.csv) ctx.stdout.write(csv(ledger, currency));
  else if (values.json)
    ctx.stdout.write(`${JSON.stringify({ manifest: plan.manifest, currency, ...ledger })}\n`);
  else ctx.stdout.write(text(plan.manifest.name, ledger, currency));
  return EXIT_CODES.ok;
}
