/**
 * The Markdown a run appends to `$GITHUB_STEP_SUMMARY`: totals, money, failures, outputs,
 * so a CI job's page says what the render came to without opening the artifacts.
 */
import path from 'node:path';
import type { RunResult } from '../pipeline/types.js';
import { summaryEventFields } from './events.js';
import { formatMoney } from './format.js';
import { shotLabel } from '../plan/label.js';

/** Server text in a table cell: one line, no pipes or backticks to break the Markdown. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[|`]/g, (c) => `\\${c}`);
}

function money(m: { seconds: number; cost: number | null }, currency: string | null): string {
  return `${m.seconds} s${m.cost !== null && currency ? ` (${formatMoney(m.cost, currency)})` : ''}`;
}

/** The step summary of a run that rendered; output paths relative to `cwd`. */
export function stepSummaryMarkdown(result: RunResult, cwd: string): string {
  const s = summaryEventFields(result);
  const c = s.spend.currency;
  const lines = [
    `### shotlist: ${cell(result.prepared.plan.manifest.name)}${s.simulated ? ' (simulated)' : ''}`,
    '',
    `Exit code **${s.exit_code}** (${s.status}): ${s.totals.done} done, ${s.totals.failed} failed, ${s.totals.unknown} unknown, ${s.totals.pending} pending of ${s.totals.shots} shots.`,
    '',
    '| spend | seconds (cost) |',
    '| --- | --- |',
    `| billed | ${money(s.spend.billed, c)} |`,
    `| failed, not billed | ${money(s.spend.failed, c)} |`,
    `| at risk, may be billed | ${money(s.spend.at_risk, c)} |`,
    ...(s.job_spend
      ? [
          `| billed, all runs | ${money(s.job_spend.billed, c)} |`,
          `| at risk, all runs | ${money(s.job_spend.at_risk, c)} |`,
        ]
      : []),
    '',
  ];
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
