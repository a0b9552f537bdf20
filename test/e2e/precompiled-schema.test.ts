import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';

const dist = path.resolve(import.meta.dirname, '../../dist/manifest');
const bad = path.resolve(import.meta.dirname, '../fixtures/bad');

describe('the schema compiled ahead of time (dist/manifest/validate.gen.cjs)', () => {
  it('is built next to the compiled code', () => {
    expect(existsSync(path.join(dist, 'validate.gen.cjs'))).toBe(true);
  });

  it('reports exactly what the schema compiled at run time reports', async () => {
    const built = (await import(pathToFileURL(path.join(dist, 'load.js')).href)) as {
      checkManifest: typeof checkManifest;
    };
    const files = readdirSync(bad).filter((f) => f.endsWith('.yaml'));
    for (const f of files) {
      const text = readFileSync(path.join(bad, f), 'utf8');
      expect(built.checkManifest(text, f).diagnostics, f).toEqual(
        checkManifest(text, f).diagnostics,
      );
    }
  });
});
