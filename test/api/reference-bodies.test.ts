import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateManifest } from '../../src/manifest/load.js';
import { plan } from '../../src/plan/plan.js';
import { checkRequest } from '../../src/api/contract.js';

const dir = new URL('../fixtures/reference/', import.meta.url);
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''));

describe('the API reference examples, written as manifests', () => {
  it('covers every curl example of the reference', () => {
    expect(cases).toHaveLength(8);
  });

  it.each(cases)('%s yields the reference body byte for byte', (name) => {
    const expected = readFileSync(new URL(`${name}.json`, dir), 'utf8');
    const file = new URL(`${name}.yaml`, dir);
    const loaded = validateManifest(readFileSync(file, 'utf8'), `${name}.yaml`);
    const [shot] = plan(loaded).shots;
    expect(JSON.stringify(shot!.request)).toBe(JSON.stringify(JSON.parse(expected)));
    expect(checkRequest(shot!.request).filter((p) => p.severity === 'error')).toEqual([]);
  });
});
