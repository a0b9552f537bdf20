import { describe, expect, it } from 'vitest';
import { describeSpend } from '../../src/cli/run-flow.js';

describe('the spend in the run summary', () => {
  it('says what a real run spent, zero included', () => {
    expect(describeSpend(false, 12, 'CNY', true)).toBe('spent 12.00 CNY');
    expect(describeSpend(false, null, 'CNY', true)).toBe('spent 0.00 CNY');
  });
  it('never invents a figure without prices', () => {
    expect(describeSpend(false, null, null, false)).toBe('spent: no prices set');
    expect(describeSpend(true, null, null, false)).toBe('simulated: nothing spent');
  });
  it('says a simulated run spent nothing', () => {
    expect(describeSpend(true, 16, 'CNY', true)).toBe(
      'simulated: nothing spent (16.00 CNY at your prices)',
    );
  });
});
