// Writes dist/manifest/validate.gen.cjs: the manifest schema compiled ahead of time by ajv's
// standalone code generator, so the CLI does not compile the schema on every start. When the
// file is absent (tests run from src/) the schema is compiled at run time instead.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const schema = JSON.parse(
  readFileSync(new URL('../schema/manifest.schema.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv2020.default({
  strict: true,
  allErrors: true,
  verbose: true,
  code: { source: true },
});
const code = standaloneCode.default(ajv, ajv.compile(schema));
mkdirSync(new URL('../dist/manifest/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/manifest/validate.gen.cjs', import.meta.url), code);
