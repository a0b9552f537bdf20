/**
 * Preloaded into the built CLI (`node --import`): counts how often the files named in
 * $SHOTLIST_COUNT_READS (base names, comma-separated) are opened for reading, and writes the
 * counts as JSON to $SHOTLIST_COUNT_READS_OUT when the process exits. Writes are not counted.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';

const names = new Set((process.env.SHOTLIST_COUNT_READS ?? '').split(',').filter(Boolean));
const counts = Object.fromEntries([...names].map((n) => [n, 0]));
const { O_WRONLY, O_RDWR } = fs.constants;

function forReading(flags) {
  if (flags === undefined || flags === null) return true;
  if (typeof flags === 'number') return (flags & (O_WRONLY | O_RDWR)) === 0;
  return String(flags) === 'r' || String(flags) === 'rs';
}

function note(file, flags) {
  if (typeof file !== 'string' && !(file instanceof URL) && !Buffer.isBuffer(file)) return;
  const name = path.basename(String(file instanceof URL ? file.pathname : file));
  if (names.has(name) && forReading(flags)) counts[name] += 1;
}

const flagsOf = (options) => (typeof options === 'string' ? 'r' : options?.flag);

const open = fsp.open;
fsp.open = (file, flags, ...rest) => (note(file, flags), open(file, flags, ...rest));
const readFile = fsp.readFile;
fsp.readFile = (file, options) => (note(file, flagsOf(options)), readFile(file, options));
const openSync = fs.openSync;
fs.openSync = (file, flags, ...rest) => (note(file, flags), openSync(file, flags, ...rest));
const readFileSync = fs.readFileSync;
fs.readFileSync = (file, options) => (note(file, flagsOf(options)), readFileSync(file, options));
const createReadStream = fs.createReadStream;
fs.createReadStream = (file, options) => (
  note(file, flagsOf(options)),
  createReadStream(file, options)
);
syncBuiltinESMExports();

process.on('exit', () => {
  const out = process.env.SHOTLIST_COUNT_READS_OUT;
  if (out) writeFileSync(out, JSON.stringify(counts));
});
const writeFileSync = fs.writeFileSync;
