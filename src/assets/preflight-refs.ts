/** Which references of the planned bodies preflight fetches, and in which role. */
import { isLoopbackHost } from '../api/url.js';
import type { VideoRequest } from '../api/contract.js';
import { shotLabel } from '../manifest/identity.js';
import type { PlannedShot } from '../plan/types.js';

export type AssetRole = 'image' | 'video' | 'audio';

/** One http(s) reference of one shot's body. */
export interface AssetRef {
  /** The shot's label (`id@variant#take`). */
  shot: string;
  /** Where in the body: `images.0`, `metadata.video_urls.1`. */
  field: string;
  url: string;
  role: AssetRole;
}

const FIELDS: readonly { role: AssetRole; path: string; pick: (b: VideoRequest) => unknown }[] = [
  { role: 'image', path: 'images', pick: (b) => b.images },
  { role: 'video', path: 'metadata.video_urls', pick: (b) => b.metadata?.video_urls },
  { role: 'audio', path: 'metadata.audio_urls', pick: (b) => b.metadata?.audio_urls },
];

/** Whether a reference is an http(s) URL: `asset://` ids (and anything else) are not fetched. */
function fetchable(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The references of one request body, in body order. */
export function bodyRefs(body: VideoRequest, shot: string): AssetRef[] {
  const refs: AssetRef[] = [];
  for (const { role, path, pick } of FIELDS) {
    const list = pick(body);
    if (!Array.isArray(list)) continue;
    list.forEach((url: unknown, i) => {
      if (typeof url === 'string' && fetchable(url)) {
        refs.push({ shot, field: `${path}.${i}`, url, role });
      }
    });
  }
  return refs;
}

export interface RefSelection {
  refs: AssetRef[];
  /** References left unchecked: on hosts a simulated run does not fetch. */
  skipped: number;
}

/**
 * Every http(s) reference of the shots. A simulated run fetches only loopback hosts: the
 * reference's example URLs must keep working offline, as the simulator accepts them unchecked.
 */
export function collectRefs(
  shots: readonly Pick<PlannedShot, 'id' | 'variant' | 'take' | 'request'>[],
  options: { loopbackOnly: boolean; local?: ReadonlySet<string> },
): RefSelection {
  const multiTake = new Set(shots.filter((s) => s.take > 1).map((s) => `${s.id}@${s.variant}`));
  const refs: AssetRef[] = [];
  let skipped = 0;
  for (const shot of shots) {
    const label = shotLabel(shot, multiTake.has(`${shot.id}@${shot.variant}`));
    for (const ref of bodyRefs(shot.request, label)) {
      // A local file's URL is checked on disk, whatever host it will be served from.
      const remote = !options.local?.has(ref.url);
      if (remote && options.loopbackOnly && !isLoopbackHost(new URL(ref.url).hostname)) skipped++;
      else refs.push(ref);
    }
  }
  return { refs, skipped };
}
