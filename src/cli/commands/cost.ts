import type { CostLedger, CostRow, Money } from '../../render/cost.js';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { formatMoney } from '../../plan/money.js';
import type { Plan } from '../../plan/types.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist cost <manifest> [options]

What the job has cost over every run its journal records: billed (completed tasks), failed
(shown apart: not billed) and unknown (a submission whose outcome was not seen, or a task still
running: it may have been billed), per variant and model and per account (--accounts runs).
Every submission counts at the price in force when it was sent (recorded in the journal);
older entries without one are priced at the manifest's pricing today, and the output says so.
Reads the journal; sends nothing. In a simulated folder the seconds are the simulator's:
nothing was billed (the text says so; --json has \`simulated: true\`). With --simulate, a
folder of a real API is refused (exit 2), as status and stitch refuse it.

Options:
  --out DIR          output folder (default renders/<name> next to the manifest)
  --simulate         the simulated renders' folder (default renders/<name>.simulated)
  --csv              one CSV table (for invoicing): a row per variant, model and status
                     (billed, failed, unknown), then the totals; failed rows have no cost
  --json             one JSON document (snake_case fields)

Exit 0.
`;

const FLAGS = {
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  out: { type: 'string' },
  simulate: { type: 'boolean' },
} as const;

const CSV_HEADER = 'variant,model,status,seconds,cost,currency';

/** A CSV field: quoted when it holds a comma, quote or line break; a formula lead is defused. */
function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

type Charges = Pick<CostRow, 'billed' | 'failed' | 'atRisk'>;

/** One line per status with seconds; a failed task bills nothing, so its cost is left empty. */
function csvLines(variant: string, model: string, m: Charges, currency: string | null): string[] {
  const lines: (string | number | null)[][] = [];
  if (m.billed.seconds > 0) lines.push([variant, model, 'billed', m.billed.seconds, m.billed.cost]);
  if (m.failed.seconds > 0) lines.push([variant, model, 'failed', m.failed.seconds, null]);
  if (m.atRisk.seconds > 0)
    lines.push([variant, model, 'unknown', m.atRisk.seconds, m.atRisk.cost]);
  return lines.map((l) => [...l, currency].map(csvField).join(','));
}

function csv(ledger: CostLedger, currency: string | null): string {
  const rows = ledger.rows.flatMap((r) => csvLines(r.variant ?? '', r.model, r, currency));
  return `${[CSV_HEADER, ...rows, ...csvLines('total', '', ledger, currency)].join('\n')}\n`;
}

/** A note for the entries priced at today's rates, or none. */
function todayNote(ledger: CostLedger): string | undefined {
  const n = ledger.todayPriced;
  if (n === 0) return undefined;
  return `priced at today's rates: ${n} entr${n === 1 ? 'y' : 'ies'} from before prices were recorded`;
}

function text(
  name: string,
  ledger: CostLedger,
  currency: string | null,
  simulated: boolean,
): string {
  const m = (x: Money) => `${x.seconds} s · ${formatMoney(x.cost, currency)}`;
  // A simulated folder's money is what its seconds would cost at your prices: none was spent.
  const line = (r: Charges) =>
    simulated
      ? `simulated ${m(r.billed)}; failed ${m(r.failed)}; outcome unknown ${m(r.atRisk)}`
      : `billed ${m(r.billed)}; failed ${m(r.failed)}; may have been billed ${m(r.atRisk)}`;
  const tasks = `${ledger.tasks} task${ledger.tasks === 1 ? '' : 's'} over every run`;
  const lines = simulated
    ? [
        `${name}: ${tasks}, simulated: nothing billed (figures at your prices)`,
        `  simulated             ${m(ledger.billed)}`,
        `  failed                ${m(ledger.failed)}`,
        `  outcome unknown       ${m(ledger.atRisk)}`,
      ]
    : [
        `${name}: ${tasks}`,
        `  billed                ${m(ledger.billed)}`,
        `  failed (not billed)   ${m(ledger.failed)}`,
        `  may have been billed  ${m(ledger.atRisk)}`,
      ];
  for (const r of ledger.rows)
    lines.push(`  ${r.variant ?? '(no variant)'} · ${r.model}: ${line(r)}`);
  if (ledger.accounts.some((a) => a.account !== null)) {
    lines.push('  per account:');
    for (const a of ledger.accounts)
      lines.push(`    ${a.account ?? '(single key)'}: ${a.tasks} tasks; ${line(a)}`);
  }
  const note = todayNote(ledger);
  if (note) lines.push(`  note: ${note}`);
  return `${lines.join('\n')}\n`;
}

const snake = (m: Charges) => ({ billed: m.billed, failed: m.failed, at_risk: m.atRisk });

/** The JSON document: snake_case like the NDJSON events. */
function json(plan: Plan, ledger: CostLedger, simulated: boolean) {
  return {
    manifest: plan.manifest,
    simulated,
    currency: plan.totals.currency,
    tasks: ledger.tasks,
    ...snake(ledger),
    unpriced_seconds: ledger.unpricedSeconds,
    today_priced: ledger.todayPriced,
    rows: ledger.rows.map((r) => ({ variant: r.variant, model: r.model, ...snake(r) })),
    accounts: ledger.accounts.map((a) => ({ account: a.account, tasks: a.tasks, ...snake(a) })),
  };
}

/** `shotlist cost`: the job-level ledger read from the journal. */
export default async function cost(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  if (positionals.length !== 1)
    throw new UsageError('cost takes one manifest', 'shotlist cost <manifest> [--csv]');
  if (values.csv && values.json) throw new UsageError('--csv and --json are exclusive', 'pick one');
  const { jobCost } = await import('../../pipeline/job-cost.js');
  const { plan, ledger, simulated } = await jobCost(
    positionals[0]!,
    {
      cwd: ctx.cwd,
      ...(values.out !== undefined ? { out: values.out } : {}),
      simulate: values.simulate === true,
    },
    (line) => ctx.stderr.write(`${line}\n`),
  );
  const currency = plan.totals.currency;
  if (values.csv) ctx.stdout.write(csv(ledger, currency));
  else if (values.json) ctx.stdout.write(`${JSON.stringify(json(plan, ledger, simulated))}\n`);
  else ctx.stdout.write(text(plan.manifest.name, ledger, currency, simulated));
  return EXIT_CODES.ok;
}
