/**
 * Rendered folders that many end-to-end tests only start from: each is made once per build
 * by the built bin under --simulate, kept under node_modules/.cache, and copied into a test's
 * own folder (tests write into it: picks, stitches, re-runs).
 */
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { shotlist } from './cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CACHE = path.join(ROOT, 'node_modules/.cache/shotlist/rendered');

/** Three shots of three takes each, 480p, 4 seconds, rendered under --simulate into `out/`. */
export const TAKES_FILM = `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, takes: 3 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - { id: s01, prompt: "橘猫在花园里追逐蝴蝶,慢动作,电影级画质" }
  - { id: s02, prompt: "the cat turns its head to the camera" }
  - { id: s03, prompt: "第三个镜头:猫在窗台上睡觉" }
`;

/** A digest of the built CLI (every file under dist/): a new build renders afresh. */
function buildDigest(): string {
  const hash = createHash('sha256');
  const dist = path.join(ROOT, 'dist');
  const files = readdirSync(dist, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of files) hash.update(path.relative(dist, file)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** True while the process that holds `lock` (its pid is written there) is alive. */
function held(lock: string): boolean {
  try {
    process.kill(Number(readFileSync(path.join(lock, 'pid'), 'utf8')), 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's; no pid file yet: the holder is writing it.
    return (
      (error as NodeJS.ErrnoException).code === 'EPERM' ||
      (existsSync(lock) && !existsSync(path.join(lock, 'pid')))
    );
  }
}

/** Renders `film` into `cached` with the built bin, through a temporary folder. */
async function render(kind: string, film: string, cached: string): Promise<void> {
  const temp = `${cached}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp);
  writeFileSync(path.join(temp, 'film.yaml'), film);
  const r = await shotlist(
    ['run', 'film.yaml', '--simulate', '--sim-latency', '0.1-0.3', '--yes', '--out', 'out'],
    { cwd: temp },
  );
  if (r.exitCode !== 0) {
    rmSync(temp, { recursive: true, force: true });
    throw new Error(
      `rendering the ${kind} film failed (exit ${String(r.exitCode)}):\n${r.stderr}${r.stdout}`,
    );
  }
  renameSync(temp, cached);
}

/**
 * Copies the folder of `film` (film.yaml and its simulated render in out/) into `dest`,
 * rendering it first if this build has not. Test files that ask at once wait for the one
 * that took the lock; a lock left by a process that died is taken over.
 */
async function rendered(kind: string, film: string, dest: string): Promise<void> {
  const key = createHash('sha256').update(film).update(buildDigest()).digest('hex').slice(0, 16);
  const cached = path.join(CACHE, `${kind}-${key}`);
  const lock = `${cached}.lock`;
  mkdirSync(CACHE, { recursive: true });
  while (!existsSync(cached)) {
    try {
      mkdirSync(lock);
    } catch {
      if (!held(lock)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    try {
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      if (!existsSync(cached)) {
        await render(kind, film, cached);
        // Renders of earlier builds are of no more use.
        for (const old of readdirSync(CACHE)) {
          if (old.startsWith(`${kind}-`) && !old.startsWith(path.basename(cached))) {
            rmSync(path.join(CACHE, old), { recursive: true, force: true });
          }
        }
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  cpSync(cached, dest, { recursive: true });
}

/** {@link TAKES_FILM} rendered, copied into `dir`: returns its manifest and out folder. */
export async function renderedTakes(dir: string): Promise<{ manifest: string; out: string }> {
  await rendered('takes', TAKES_FILM, dir);
  return { manifest: path.join(dir, 'film.yaml'), out: path.join(dir, 'out') };
}
