import { cpSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';
import { tempDir } from '../helpers/cli.js';

const dist = path.resolve(import.meta.dirname, '../../dist/manifest');
const bad = path.resolve(import.meta.dirname, '../fixtures/bad');

describe('the schema compiled ahead of time (dist/manifest/validate.gen.cjs)', () => {
  it('is built from the shipped schema, and the built loader uses it', async () => {
    // The file holds the current schema's validator, not one left from an earlier build.
    const schema = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../../schema/manifest.schema.json'), 'utf8'),
    ) as object;
    const ajv = new Ajv2020.default({
      strict: true,
      allErrors: true,
      verbose: true,
      code: { source: true },
    });
    expect(readFileSync(path.join(dist, 'validate.gen.cjs'), 'utf8')).toBe(
      standaloneCode.default(ajv, ajv.compile(schema)),
    );
    // The bundled CLI (bin) reads its copy, beside its chunks: the same file.
    expect(
      readFileSync(path.resolve(dist, '../bundle/validate.gen.cjs'), 'utf8'),
      'dist/bundle/validate.gen.cjs',
    ).toBe(readFileSync(path.join(dist, 'validate.gen.cjs'), 'utf8'));
    // A copy of the build whose precompiled validator refuses everything: the built loader
    // reports that validator's verdict, so it is the file it reads (not a run-time compile).
    const example = path.resolve(import.meta.dirname, '../../examples/quickstart.yaml');
    const { dir, cleanup } = tempDir('shotlist-precompiled-');
    try {
      cpSync(path.dirname(dist), path.join(dir, 'dist'), { recursive: true });
      cpSync(path.resolve(import.meta.dirname, '../../schema'), path.join(dir, 'schema'), {
        recursive: true,
      });
      symlinkSync(
        path.resolve(import.meta.dirname, '../../node_modules'),
        path.join(dir, 'node_modules'),
      );
      writeFileSync(
        path.join(dir, 'dist/manifest/validate.gen.cjs'),
        `module.exports = function v() { v.errors = [{ instancePath: '', schemaPath: '#/required', keyword: 'required', params: { missingProperty: 'planted' }, message: 'planted' }]; return false; };`,
      );
      // Loaded by a plain node process, as the CLI loads it.
      const script = `const m = await import(process.argv[1]); const fs = await import('node:fs');
        process.stdout.write(JSON.stringify(m.checkManifest(fs.readFileSync(process.argv[2], 'utf8'), 'q.yaml').diagnostics));`;
      const run = (root: string) =>
        execa(process.execPath, [
          '--input-type=module',
          '-e',
          script,
          pathToFileURL(path.join(root, 'dist/manifest/load.js')).href,
          example,
        ]).then((r) => JSON.parse(r.stdout) as unknown[]);
      expect(await run(path.resolve(import.meta.dirname, '../..'))).toEqual([]);
      expect(JSON.stringify(await run(dir))).toContain('planted');
    } finally {
      cleanup();
    }
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
