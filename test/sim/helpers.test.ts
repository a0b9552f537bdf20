import { describe, expect, it } from 'vitest';
import { sim } from './helpers.js';

// Test files share modules (vitest `isolate: false`): a simulator of this file must be closed
// after its test even when another file loaded the helpers first.
describe('the simulator helper', () => {
  let url = '';

  it('starts a simulator for a test', async () => {
    url = (await sim()).url;
    expect((await fetch(`${url}/__sim/ledger`)).status).toBe(200);
  });

  it('has closed it once that test ended', async () => {
    expect(url).not.toBe('');
    await expect(fetch(`${url}/__sim/ledger`)).rejects.toThrow();
  });
});
