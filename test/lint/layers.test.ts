import path from 'node:path';
import { ESLint } from 'eslint';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Lints `code` as if it were the file `file` of the repository. */
async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('the layer rule (README, Architecture)', () => {
  it('refuses an import from a lower layer into a higher one', async () => {
    const messages = await lint(
      'src/api/example.ts',
      "import { plan } from '../plan/plan.js';\nexport const p = plan;\n",
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/api may not import a layer above it/);
  });

  it('refuses a folder import from a file at the root of src', async () => {
    const messages = await lint(
      'src/example.ts',
      "import { render } from './render/render.js';\nexport const r = render;\n",
    );
    expect(messages[0]).toMatch(/root of src are the bottom layer/);
  });

  it('refuses an import of one command by another', async () => {
    const messages = await lint(
      'src/cli/commands/example.ts',
      "import run from './run.js';\nexport const r = run;\n",
    );
    expect(messages[0]).toMatch(/command may not import another command/);
    expect(
      await lint(
        'src/cli/commands/example.ts',
        "import { runFlow } from '../run-flow.js';\nexport const r = runFlow;\n",
      ),
    ).toEqual([]);
  });

  it('allows a higher layer to import a lower one, and a command to import two levels down', async () => {
    expect(
      await lint(
        'src/cli/commands/example.ts',
        "import { plan } from '../../plan/plan.js';\nexport const p = plan;\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'src/render/example.ts',
        "import { checkRequest } from '../api/contract.js';\nexport const c = checkRequest;\n",
      ),
    ).toEqual([]);
  });
});

describe('the function length rule', () => {
  const fn = (lines: number): string =>
    `export function f(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(lines)}  return n;\n}\n`;
  const lengthMessages = async (file: string, code: string): Promise<string[]> => {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return (result?.messages ?? [])
      .filter((m) => m.ruleId === 'max-lines-per-function')
      .map((m) => m.message);
  };

  it('refuses a function of more than 120 lines in src, not in generated code', async () => {
    expect(await lengthMessages('src/render/example.ts', fn(130))).toHaveLength(1);
    expect(await lengthMessages('src/render/example.ts', fn(100))).toEqual([]);
    expect(await lengthMessages('src/manifest/example.gen.ts', fn(130))).toEqual([]);
  });
});

describe('the cycle check', () => {
  it('fails on a cycle of type-only imports', async () => {
    const r = await execa(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/dpdm/lib/bin/dpdm.js'),
        '--no-warning',
        '--no-tree',
        '--exit-code',
        'circular:1',
        'test/fixtures/cycle/a.ts',
      ],
      { cwd: ROOT, reject: false },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/a\.ts.*b\.ts|b\.ts.*a\.ts/s);
  });
});
