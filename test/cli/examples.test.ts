/**
 * Every example in examples/ is a manifest `validate` accepts with no warning, as the README
 * shows them: a finished short (captions, cards, logo, voice-over, loudness, exports) included.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const dir = path.resolve(import.meta.dirname, '../../examples');
const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('the examples', () => {
  it('include the finished short', () => {
    expect(examples).toContain('finished-short.yaml');
  });

  it.each(examples)('validate cleanly: %s', async (file) => {
    const r = await cli(['validate', path.join('examples', file)], {
      cwd: path.dirname(dir),
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`ok: examples/${file}`);
  });
});
