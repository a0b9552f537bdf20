import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shotlist, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function manifest(name: string, text: string): string {
  const file = path.join(tmp.dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('manifest problems through the built bin', () => {
  it('sends variables expanded inside variables', async () => {
    const file = manifest(
      'nested.yaml',
      `version: 1
name: nested
vars:
  brand: Acme
  product: "\${brand} earbuds"
shots:
  - id: a
    prompt: "\${product} on a table"
`,
    );
    const r = await shotlist(['plan', '--json', file]);
    expect(r.exitCode).toBe(0);
    const body = JSON.parse(r.stdout).shots[0].request;
    expect(JSON.stringify(body)).toContain('Acme earbuds on a table');
    expect(JSON.stringify(body)).not.toContain('${');
  });

  it('reports YAML, variable, rule and stitch problems in one pass, each with its fix', async () => {
    const file = manifest(
      'many/m.yaml',
      `version: 1
name: many
vars:
  a: "\${b}"
  b: "\${a}"
shots:
  - id: a
    prompt: Scene: a cat
  - id: b
    prompt: "\${a}"
    duration: 4
    trim: { end: 5 }
stitch:
  soundtrack: { file: ../outside.m4a }
`,
    );
    writeFileSync(path.join(tmp.dir, 'outside.m4a'), 'x');
    const r = await shotlist(['validate', file]);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.includes(': error: '));
    expect(lines.map((l) => l.slice(file.length + 1, l.indexOf(': error')))).toEqual([
      '5:6',
      '8:13',
      '12:18',
      '14:23',
    ]);
    expect(r.stderr).toContain('loop: ${b} -> ${a} -> ${b}');
    expect(r.stderr).toContain('fix: quote the value: prompt: "Scene: a cat"');
    expect(r.stderr).toContain('trim.end 5 is past the end of shot b');
    expect(r.stderr).toContain('--allow-outside');
    expect(r.stderr).toContain(`${file}: 4 errors`);
    const allowed = await shotlist(['validate', '--allow-outside', file]);
    expect(allowed.stderr).not.toContain('outside');
  });

  it('suggests the flag meant by a typo, and sends nothing', async () => {
    const r = await shotlist(['run', '--simualte', 'nope.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown flag --simualte');
    expect(r.stderr).toContain('did you mean --simulate?');
  });
});
