// `node bench/startup.mjs [runs] [entryA entryB ...]`: the CPU time (user + sys, children
// included) of one CLI start per command, for each entry script, measured A/B interleaved
// (A, B, A, B, ...) so a noisy machine hurts every entry alike. Prints the median of `runs`
// (7 by default) and every sample. With no entries: the bin (bin/shotlist.js) against the
// same `main` loaded from tsc's dist/ (`dist/cli/main.js`, what the bin ran before the bundle).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 7);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'shotlist-startup-'));
let entries = process.argv.slice(3).map((e) => path.resolve(e));
if (entries.length === 0) {
  const fromDist = path.join(tmp, 'bin-dist.mjs');
  writeFileSync(
    fromDist,
    `import { main } from ${JSON.stringify(path.join(root, 'dist/cli/main.js'))};\n` +
      'process.exitCode = await main(process.argv.slice(2));\n',
  );
  entries = [fromDist, path.join(root, 'bin/shotlist.js')];
}

const examples = path.join(tmp, 'examples');
const fresh = () => {
  rmSync(examples, { recursive: true, force: true });
  cpSync(path.join(root, 'examples'), examples, { recursive: true });
};

/** CPU seconds (user + sys, waited-for children included) of one start, via /usr/bin/time. */
function cpu(entry, args) {
  const timeFile = path.join(tmp, 'time');
  // Exit codes other than 0 are the command's to give (`--help` gives 0); a crash shows below.
  execFileSync(
    '/usr/bin/time',
    ['-f', '%U %S %e', '-o', timeFile, process.execPath, entry, ...args],
    { cwd: examples, stdio: 'ignore', env: { ...process.env, CI: 'true' } },
  );
  const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
  return user + sys;
}

const COMMANDS = [
  ['--help', ['--help']],
  ['validate', ['validate', 'quickstart.yaml']],
  ['plan', ['plan', '--simulate', 'quickstart.yaml']],
  // Reads the folder rendered by the run below.
  ['status', ['status', '--simulate', 'quickstart.yaml']],
  ['run', ['run', '--simulate', '--yes', 'quickstart.yaml'], 'fresh'],
];

fresh();
// `status` reads a rendered folder: one run makes it.
cpu(entries[0], ['run', '--simulate', '--yes', 'quickstart.yaml']);
const rows = [];
// STARTUP_ONLY=plan,status measures only those commands.
const only = process.env.STARTUP_ONLY?.split(',');
for (const [name, args, needs] of COMMANDS) {
  if (only && !only.includes(name)) continue;
  const samples = entries.map(() => []);
  for (let i = 0; i < runs; i++) {
    entries.forEach((entry, e) => {
      if (needs === 'fresh') fresh();
      samples[e].push(cpu(entry, args));
    });
  }
  const medians = samples.map(median);
  rows.push({ name, medians, samples });
  process.stdout.write(
    `${name.padEnd(9)} ${medians.map((m) => m.toFixed(3)).join('  ')}   ${medians
      .slice(1)
      .map((m) => `${(m - medians[0]).toFixed(3)}`)
      .join(' ')}\n`,
  );
}
process.stdout.write(`\nentries: ${entries.join(', ')}\n`);
for (const { name, samples } of rows) {
  process.stdout.write(
    `${name}: ${samples.map((s) => s.map((x) => x.toFixed(2)).join(' ')).join(' | ')}\n`,
  );
}
rmSync(tmp, { recursive: true, force: true });
