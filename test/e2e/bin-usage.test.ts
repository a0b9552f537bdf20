import { describe, expect, it } from 'vitest';
import { shotlist } from '../helpers/cli.js';

describe('the built bin', () => {
  it('starts and prints its usage with --help, exit 0', async () => {
    const r = await shotlist(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Usage: shotlist <command>');
    for (const command of ['validate', 'plan', 'sim', 'init']) expect(r.stdout).toContain(command);
  });
});
