import { createHash } from 'node:crypto';
import type { VideoRequest, VideoRequestMetadata } from '../api/contract.js';

/**
 * Bodies up to this many bytes are kept whole for the ledger; larger ones are kept as their
 * essentials and a digest, so a flood of 1 MB bodies costs a few KB each, not a MB.
 */
export const KEPT_BODY_LIMIT = 16 * 1024;
/** A webhook URL longer than this is not kept (and so not called): no receiver needs more. */
export const KEPT_WEBHOOK_LIMIT = 2048;

/** What the simulator keeps of one accepted body: enough to make its clip and bill it. */
export interface KeptBody {
  /** The body as sent when small; else only the fields that shape the clip and the task. */
  body: VideoRequest;
  /** sha256 (hex) of the raw bytes sent, so a test can still match a large body. */
  sha256: string;
  /** Size of the raw body in bytes. */
  bytes: number;
  /** True when `body` holds the essentials only. */
  trimmed: boolean;
}

/**
 * The fields of a (checked) body that decide its clip (model, prompt, seconds, size, ratio,
 * audio) and its lifecycle (webhook). The prompt is bounded by the contract (2500 code points).
 */
function essentials(body: VideoRequest): VideoRequest {
  const kept: VideoRequest = { model: body.model, prompt: body.prompt };
  if (body.duration !== undefined) kept.duration = body.duration;
  if (body.size !== undefined) kept.size = body.size;
  const metadata: VideoRequestMetadata = {};
  const { ratio, generate_audio, webhook_url } = body.metadata ?? {};
  if (ratio !== undefined) metadata.ratio = ratio;
  if (generate_audio !== undefined) metadata.generate_audio = generate_audio;
  if (webhook_url !== undefined && webhook_url.length <= KEPT_WEBHOOK_LIMIT) {
    metadata.webhook_url = webhook_url;
  }
  if (Object.keys(metadata).length > 0) kept.metadata = metadata;
  return kept;
}

/** What to keep of a body that passed the contract check, given the raw bytes it came as. */
export function keepBody(raw: Buffer, body: VideoRequest): KeptBody {
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const trimmed = raw.length > KEPT_BODY_LIMIT;
  return { body: trimmed ? essentials(body) : body, sha256, bytes: raw.length, trimmed };
}
