#!/usr/bin/env node
import module from 'node:module';

// The CLI is bundled (dist/bundle/, scripts/bundle.mjs): a start reads a few dozen files rather
// than several hundred. Node 22 can also keep the compiled code between starts.
module.enableCompileCache?.();
// Stack traces name the bundle's lines; with SHOTLIST_DEBUG (which prints them) they name the
// sources, through the maps beside the bundle. Reading the maps costs time, so only then.
if (process.env.SHOTLIST_DEBUG) process.setSourceMapsEnabled(true);

// A reader that goes away (`shotlist run --dry-run | head -1`) is not a failure of the run: stop
// writing to that stream and let the work finish, so a closed pipe never abandons shots in flight.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = () => true;
  });
}

const { main } = await import('../dist/bundle/main.js');
process.exitCode = await main(process.argv.slice(2));
