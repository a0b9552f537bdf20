import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');

let bundled: Record<string, string[]> | undefined;

/**
 * The source files a file the bin loaded stands for: the bin runs the bundled CLI
 * (dist/bundle/, scripts/bundle.mjs), whose every chunk holds the sources that
 * dist/bundle.meta.json lists (`src/cli/main.ts`, `node_modules/yaml/dist/index.js`), as
 * absolute paths. Any other file (a URL or a path) stands for itself.
 */
export function sourcesOf(loaded: string): string[] {
  bundled ??= JSON.parse(readFileSync(path.join(ROOT, 'dist/bundle.meta.json'), 'utf8')) as Record<
    string,
    string[]
  >;
  const file = loaded.startsWith('file:') ? fileURLToPath(loaded) : loaded;
  const inputs = bundled[path.relative(ROOT, file).split(path.sep).join('/')];
  return inputs ? inputs.map((input) => path.join(ROOT, input)) : [loaded];
}
