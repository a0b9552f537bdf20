import type { SpendTotals } from '../report/types.js';

/**
 * The spend part of the run summary: what completed tasks bill, then failed tasks apart (not
 * billed) and tasks that may have been billed.
 */
export function describeCharges(spend: SpendTotals | undefined): string {
  if (!spend) return '';
  const parts = [`${spend.billed.seconds} s billed`];
  if (spend.failed.seconds > 0) parts.push(`${spend.failed.seconds} s failed, not billed`);
  if (spend.at_risk.seconds > 0) parts.push(`${spend.at_risk.seconds} s may have been billed`);
  return `(${parts.join(', ')})`;
}
