// Preloaded with --import: at exit, writes the file of every CommonJS module the process
// loaded (by `require`, or by an ES `import` of a CommonJS package) to $SHOTLIST_LOADED_OUT.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { cache } = createRequire(import.meta.url);
process.on('exit', () => {
  writeFileSync(process.env.SHOTLIST_LOADED_OUT, Object.keys(cache).join('\n'));
});
