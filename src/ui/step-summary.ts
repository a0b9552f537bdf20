/**
 * The Markdown a run appends to `$GITHUB_STEP_SUMMARY`: totals, money, failures, outputs,
 * so a CI job's page says what the render came to without opening the artifacts.
 */
import path from 'node:path';
import type { MergedSpend } from '../pipeline/merge-check.js';
import type { RunResult } from '../pipeline/types.js';
import { summaryEventFields } from './events.js';
import { formatMoney } from './format.js';
import { shotLabel } from '../manifest/identity.js';

/** Server text in a table cell: one line, no pipes or backticks to break the Markdown. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[|`]/g, (c) => `\\${c}`);
}

function money(m: { seconds: number; cost: number | null }, currency: string | null): string {
  return `${m.seconds} s${m.cost !== null && currency ? ` (${formatMoney(m.cost, currency)})` : ''}`;
}

type Charges = Record<'billed' | 'failed' | 'at_risk', { seconds: number; cost: number | null }>;

/**
 * This run's spend and, beside it, the job's over every run of the folder's journal: the
 * campaign's totals (after a merge, every shard's), not only what this run sent.
 */
function spendTable(run: Charges, job: Charges | undefined, c: string | null): string[] {
  const row = (name: string, k: keyof Charges) =>
    `| ${name} | ${money(run[k], c)} |${job ? ` ${money(job[k], c)} |` : ''}`;
  return [
    job ? '| spend | this run | every run (the journal) |' : '| spend | seconds (cost) |',
    job ? '| --- | --- | --- |' : '| --- | --- |',
    row('billed', 'billed'),
    row('failed, not billed', 'failed'),
    row('at risk, may be billed', 'at_risk'),
    '',
  ];
}

/** The step summary of `merge --manifest`: the campaign's spend over every shard folder. */
export function mergeStepSummary(spend: MergedSpend, out: string): string {
  const c = spend.currency;
  const { ledger, unfinished } = spend;
  const lines = [
    `### shotlist merge: ${cell(out)}`,
    '',
    `${spend.shots - unfinished.length} of ${spend.shots} shots finished; ${ledger.tasks} tasks over every shard.`,
    '',
    ...spendTable(
      { billed: ledger.billed, failed: ledger.failed, at_risk: ledger.atRisk },
      undefined,
      c,
    ),
  ];
  if (unfinished.length > 0)
    lines.push(
      `Not finished: ${cell(unfinished.slice(0, 20).join(', '))}${unfinished.length > 20 ? ' …' : ''}`,
      '',
    );
  if (!spend.budget.ok) lines.push(`**Over budget**: ${cell(spend.budget.reason ?? '')}`, '');
  return `${lines.join('\n')}\n`;
}

/** The step summary of a run that rendered; output paths relative to `cwd`. */
export function stepSummaryMarkdown(result: RunResult, cwd: string): string {
  const s = summaryEventFields(result);
  const c = s.spend.currency;
  const lines = [
    `### shotlist: ${cell(result.prepared.plan.manifest.name)}${s.simulated ? ' (simulated)' : ''}`,
    '',
    `Exit code **${s.exit_code}** (${s.status}): ${s.totals.done} done, ${s.totals.failed} failed, ${s.totals.unknown} unknown, ${s.totals.pending} pending, ${s.totals.not_sent} not sent of ${s.totals.shots} shots.`,
    '',
    ...spendTable(s.spend, s.job_spend ?? undefined, c),
  ];
  // Team mode: what this machine followed was paid by another; adding machines' summaries up
  // must not count it twice.
  if (s.spend.followed)
    lines.push(`Followed, paid by another machine of the team: ${money(s.spend.followed, c)}`, '');
  if (s.failures.length > 0) {
    lines.push('| failed shot | status | reason |', '| --- | --- | --- |');
    for (const f of s.failures) {
      const name = shotLabel(f);
      lines.push(
        `| ${cell(name)} | ${f.status} | ${cell(`${f.code ?? ''}: ${f.message ?? ''}`)} |`,
      );
    }
    lines.push('');
  }
  if (s.outputs.length > 0) {
    lines.push('Outputs:', '');
    for (const o of s.outputs)
      lines.push(`- \`${cell(path.relative(cwd, o.file) || o.file)}\` (${o.duration} s)`);
    lines.push('');
  }
  if (s.error) lines.push(`Error: ${cell(s.error.message)}`, '');
  return `${lines.join('\n')}\n`;
}
