// Writes dist/bundle/: the CLI that bin/shotlist.js runs, bundled by esbuild, so a start reads
// a few dozen files instead of several hundred (tsc's dist/ plus yaml, execa, undici...). Run
// after tsc and scripts/gen-validator.mjs (`npm run build`); tsc's dist/ stays the library.
//
// - dist/bundle/ is two folders deep like dist/cli/ and dist/manifest/, so the relative URLs
//   the code reads files by (`../../schema/...`, `../../package.json`) resolve the same.
// - Commands and lazily loaded modules stay separate chunks (splitting): a command loads what
//   it loaded before, no more.
// - undici is bundled on its own, as dist/bundle/undici.cjs, which src/api/undici.ts requires
//   on first use (a define names it): it stays out of the commands that never reach a server.
// - The validator built by gen-validator.mjs is copied beside the chunks, where
//   src/manifest/schema.ts looks for it (`./validate.gen.cjs`).
// - dist/bundle.meta.json (not shipped) says which sources each chunk holds: test/e2e/lazy-deps
//   reads it to tell which packages a command loaded.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/bundle');

// Optional, heavy, or finding their binaries beside their own package: loaded from
// node_modules as before. The built validator's require of Ajv's runtime is left as it is.
const EXTERNAL = [
  '@aws-sdk/*',
  'bullmq',
  'ioredis',
  '@ffmpeg-installer/*',
  '@ffprobe-installer/*',
  'ajv',
  'ajv/*',
];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  // Stack traces point into the bundle; the maps beside it serve SHOTLIST_DEBUG=1 (bin).
  sourcemap: 'linked',
  sourcesContent: false,
  // Error classes name themselves after their class (`new.target.name`): keep the names.
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

rmSync(outdir, { recursive: true, force: true });
const [cli, undici] = await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir,
    format: 'esm',
    splitting: true,
    external: EXTERNAL,
    define: { SHOTLIST_UNDICI_BUNDLE: JSON.stringify('./undici.cjs') },
    // Bundled CommonJS packages (yaml) require Node's modules: give the chunks a `require`.
    banner: {
      js: "import { createRequire as __shotlistRequire } from 'node:module'; const require = __shotlistRequire(import.meta.url);",
    },
  }),
  build({
    ...common,
    entryPoints: { undici: 'undici' },
    outdir,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
  }),
]);
copyFileSync(
  path.join(root, 'dist/manifest/validate.gen.cjs'),
  path.join(outdir, 'validate.gen.cjs'),
);
const sources = {};
for (const [file, { inputs }] of Object.entries({
  ...cli.metafile.outputs,
  ...undici.metafile.outputs,
})) {
  if (file.endsWith('.map')) continue;
  sources[file] = Object.keys(inputs);
}
writeFileSync(path.join(root, 'dist/bundle.meta.json'), `${JSON.stringify(sources, null, 1)}\n`);
