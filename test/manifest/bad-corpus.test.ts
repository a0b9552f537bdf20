import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';

const dir = new URL('../fixtures/bad/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('the bad-manifest corpus', () => {
  it('has at least 40 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)('%s is rejected at the expected line with a clear message', (file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const header = /^# expect: (\d+): (.*)$/m.exec(text);
    expect(header, 'each case names its expected line and message').not.toBeNull();
    const [, line, message] = header!;
    const result = checkManifest(text, file);
    expect(result.loaded).toBeUndefined();
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    const hit = errors.find(
      (d) => d.line === Number(line) && `${d.message} ${d.fix ?? ''}`.includes(message!),
    );
    expect(hit, JSON.stringify(errors, null, 2)).toBeDefined();
    expect(hit!.file).toBe(file);
    expect(hit!.col).toBeGreaterThan(0);
  });
});
