// Writes src/manifest/types.gen.ts from schema/manifest.schema.json: the schema is the single
// source of truth, and a test fails when the committed types are not what this script makes.
import { readFile, writeFile } from 'node:fs/promises';
import { compile } from 'json-schema-to-typescript';

export async function generateTypes() {
  const schema = JSON.parse(
    await readFile(new URL('../schema/manifest.schema.json', import.meta.url), 'utf8'),
  );
  return compile(schema, 'Manifest', {
    additionalProperties: false,
    bannerComment:
      '/* Generated from schema/manifest.schema.json by `npm run gen:types`. Do not edit. */',
    style: { singleQuote: true, printWidth: 100, trailingComma: 'all' },
    unreachableDefinitions: false,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(new URL('../src/manifest/types.gen.ts', import.meta.url), await generateTypes());
}
