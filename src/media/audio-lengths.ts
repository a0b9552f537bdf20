/**
 * The audio checks that need ffprobe: the local soundtrack and voice-overs are measured (local
 * files only; nothing is sent) and `checkAudioLengths` says what does not fit. `validate` and
 * `run` both ask, so a voice-over longer than its shot stops a run before anything is sent.
 */
import type { Diagnostic } from '../errors.js';
import { Collector } from '../manifest/collector.js';
import type { LoadedManifest } from '../manifest/load.js';
import { checkAudioLengths, namedAudio } from '../manifest/voice-rules.js';
import { probe } from './probe.js';

/** The problems of a loaded manifest's audio lengths; a file ffprobe cannot read is left out. */
export async function audioLengthProblems(
  loaded: LoadedManifest,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Diagnostic[]> {
  const dir = loaded.dir;
  if (dir === undefined) return [];
  const files = namedAudio(loaded.manifest, dir);
  if (files.length === 0) return [];
  const lengths = new Map<string, number>();
  for (const { file } of files) {
    if (lengths.has(file)) continue;
    const info = await probe(file, { env, container: 'any' }).catch(() => undefined);
    const sec = info?.audio?.durationSec ?? info?.durationSec;
    if (sec !== undefined && sec > 0) lengths.set(file, sec);
  }
  const out = new Collector(loaded.file);
  out.source = loaded.source;
  checkAudioLengths(loaded.manifest, dir, lengths, out);
  return out.sorted();
}
