#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// A reader that goes away (`shotlist run --dry-run | head -1`) is not a failure of the run: stop
// writing to that stream and let the work finish, so a closed pipe never abandons shots in flight.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = () => true;
  });
}

process.exitCode = await main(process.argv.slice(2));
