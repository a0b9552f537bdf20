/**
 * The one place a planned body becomes the body sent: what only the moment of sending knows
 * (the receiver's per-shot webhook URL, the address of the simulator started for the run) is
 * filled in here. A dry run prints the same body with a placeholder for each such value. The
 * journal key is made from the planned body, so none of these values decides whether a shot
 * is new.
 */
import type { VideoRequest } from '../api/contract.js';
import { SIMULATED_ORIGIN } from '../assets/local.js';
import { withWebhook, type PushBoard } from './receiver.js';

/** What the moment of sending fills in a planned body. */
export interface SendTime {
  /** The push receiver (`--listen`): each shot's webhook URL, unless its manifest set one. */
  pushes?: Pick<PushBoard, 'urlFor'> | undefined;
  /** The origin of the simulator started for the run, where the plan wrote its stand-in. */
  assetOrigin?: string | undefined;
}

/** The body sent for the planned `request` of the shot with journal key `key`. */
export function wireBody(request: VideoRequest, key: string, at: SendTime): VideoRequest {
  let body = request;
  const from = `${SIMULATED_ORIGIN}/assets/`;
  if (at.assetOrigin !== undefined) {
    const text = JSON.stringify(body);
    if (text.includes(from))
      body = JSON.parse(text.replaceAll(from, `${at.assetOrigin}/assets/`)) as VideoRequest;
  }
  return withWebhook(body, at.pushes, key);
}

/** Placeholders for what only the moment of sending knows. */
export const AT_SEND_TIME = {
  webhook: '<set at send time: receiver token>',
  simulator: '<set at send time: simulator address>',
} as const;

/**
 * The body a run would send for `request`, as a dry run or `plan --json` shows it: the values
 * only the moment of sending knows are placeholders.
 */
export function previewBody(
  request: VideoRequest,
  run: { simulated: boolean; listen: boolean },
): VideoRequest {
  return wireBody(request, '', {
    ...(run.listen ? { pushes: { urlFor: () => AT_SEND_TIME.webhook } } : {}),
    ...(run.simulated ? { assetOrigin: AT_SEND_TIME.simulator } : {}),
  });
}
