import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../src/errors.js';
import { MAX_MANIFEST_BYTES, checkManifest, validateManifest } from '../../src/manifest/load.js';
import { expandVars, type VarProblem } from '../../src/manifest/vars.js';
import { closest } from '../../src/manifest/suggest.js';

const ok = `version: 1
name: demo
shots:
  - id: a
    prompt: hello
`;

describe('loading a manifest', () => {
  it('accepts a minimal manifest', () => {
    const result = checkManifest(ok, 'demo.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.loaded?.manifest.shots[0]?.id).toBe('a');
  });

  it('reports every problem at once, sorted by position', () => {
    const text = `version: 1
name: demo
defaults: { duration: 99 }
shots:
  - id: a
    prompt: hello
    ratio: "5:4"
  - id: b
    prompt: hi
    size: 4k
`;
    const { diagnostics } = checkManifest(text, 'demo.yaml');
    expect(diagnostics.map((d) => `${d.line}:${d.col}`)).toEqual(['3:23', '7:12', '10:11']);
    expect(diagnostics.every((d) => d.file === 'demo.yaml' && d.severity === 'error')).toBe(true);
  });

  it('throws a ManifestError with exit code 2 from validateManifest', () => {
    try {
      validateManifest('version: 1\nname: x\nshots: []\n', 'x.yaml');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ManifestError);
      expect((error as ManifestError).exitCode).toBe(2);
      expect((error as ManifestError).diagnostics[0]?.line).toBe(3);
    }
  });

  it('refuses a manifest over the size limit before parsing it', () => {
    const big = `${ok}#${'x'.repeat(MAX_MANIFEST_BYTES)}\n`;
    const { diagnostics } = checkManifest(big, 'big.yaml');
    expect(diagnostics[0]?.message).toContain('limit is 5 MB');
  });

  it('refuses an alias bomb quickly, without expanding it', () => {
    const levels = Array.from({ length: 9 }, (_, i) => {
      const name = String.fromCharCode(97 + i);
      const prev = String.fromCharCode(96 + i);
      return i === 0
        ? `${name}: &${name} [x, x, x, x, x, x, x, x, x, x]`
        : `${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`;
    });
    // Quickly in CPU time (the work done), which a busy machine does not stretch.
    const start = process.cpuUsage();
    const { diagnostics } = checkManifest(`${levels.join('\n')}\n${ok}`, 'bomb.yaml');
    expect(diagnostics[0]?.message).toContain('alias');
    const used = process.cpuUsage(start);
    expect((used.user + used.system) / 1000).toBeLessThan(5000);
  });

  it('allows a few aliases for shared settings', () => {
    const text = `version: 1
name: demo
x-common: &common { duration: 4, ratio: "9:16" }
shots:
  - { id: a, prompt: hello, <<: *common }
`;
    const { diagnostics } = checkManifest(text, 'demo.yaml');
    // x-common is not a manifest key: the alias is fine, the extra key is not.
    expect(diagnostics.map((d) => d.message)).toEqual([
      'unknown key "x-common"',
      'unknown key "<<" in shots[0]',
    ]);
  });

  it('expands vars in every string, leaves $${ literal, and reports unknown names', () => {
    const problems: VarProblem[] = [];
    const out = expandVars(
      { vars: { a: '${b}' }, shots: [{ prompt: '${a} and $${a} and ${zz}' }] },
      { values: { a: 'cat' }, broken: new Set() },
      problems,
    );
    expect(out).toEqual({ vars: { a: '${b}' }, shots: [{ prompt: 'cat and ${a} and ${zz}' }] });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toEqual(['shots', 0, 'prompt']);
  });

  it('points a problem caused by defaults at the defaults line', () => {
    const text = `version: 1
name: demo
defaults:
  model: seedance-2-official
shots:
  - id: a
    prompt: "@image_file_1"
    mode: multi_ref
    assets: { images: [asset://asset-1] }
`;
    const { diagnostics } = checkManifest(text, 'demo.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ line: 9, message: expect.stringContaining('asset://') });
  });

  it('suggests close words only', () => {
    expect(closest('ratoi', ['ratio', 'size'])).toBe('ratio');
    expect(closest('promt', ['prompt', 'id'])).toBe('prompt');
    expect(closest('banana', ['ratio', 'size'])).toBeUndefined();
  });
});
