/**
 * The identities of a shot, one definition each: the journal key of a take, its label, its
 * clip's path, its thumbnail's name, the fingerprint a pick is made for, and the map keys of a
 * take and of a shot. Output folders name files by them: none may change without breaking
 * every folder written before.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type VideoRequest } from '../api/contract.js';

/** One take of one shot: what every identity below is computed from. */
export interface TakeRef {
  id: string;
  variant: string | null;
  take: number;
}

/**
 * The journal key of one planned request: sha256 of the canonical body, the take and the API
 * base URL. Editing a prompt changes only that shot's key; a simulated render never matches a
 * real one.
 */
export function journalKey(request: VideoRequest, take: number, baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return createHash('sha256')
    .update(`${canonicalJson(request)}\n${take}\n${base}`)
    .digest('hex');
}

/** The fingerprint of a take's request body: what a pick is valid for. */
export function bodyFingerprint(shot: { request: VideoRequest }): string {
  return createHash('sha256').update(canonicalJson(shot.request)).digest('hex').slice(0, 16);
}

/**
 * The one name of a shot everywhere (task list, log, status, report, plan): `id`, then
 * `@variant` when it has one, then `#take` when the shot has several takes.
 */
export function shotLabel(shot: TakeRef, multiTake = shot.take > 1): string {
  return `${shot.id}${shot.variant ? `@${shot.variant}` : ''}${multiTake ? `#${shot.take}` : ''}`;
}

/**
 * Where a shot's clip is written, relative to the output folder: `clips/<variant>/<id>.mp4`,
 * with `.take<N>` when the shot has several takes.
 */
export function clipPath(shot: TakeRef, multiTake: boolean): string {
  const dir = shot.variant ? `clips/${shot.variant}` : 'clips';
  return `${dir}/${shot.id}${multiTake ? `.take${shot.take}` : ''}.mp4`;
}

/** A file name for a shot key that any file system takes, unique per key. */
export function thumbnailName(key: string): string {
  const safe = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  if (safe === key) return `${safe}.jpg`;
  return `${safe}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}.jpg`;
}

/** One shot of one variant (every take of it) as a map key. */
export function pickKey(shot: string, variant: string | null): string {
  return `${shot}\u0000${variant ?? ''}`;
}

/** One planned take (shot id, variant, take) as a map key. */
export function takeKey(shot: TakeRef): string {
  return `${pickKey(shot.id, shot.variant)}\u0000${shot.take}`;
}
