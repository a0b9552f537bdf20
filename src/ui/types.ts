import type { Writable } from 'node:stream';
import type { RenderEvent } from '../render/events.js';

/** Draws render events; `close` waits until the drawing is finished. */
export interface ProgressView {
  onEvent(event: RenderEvent): void;
  close(): Promise<void>;
}

export interface ProgressInput {
  /** Labels of every shot of the run, in plan order (with the take, for the `--json` stream). */
  shots: { label: string; key: string; id?: string; variant?: string | null; take?: number }[];
  currency: string | null;
  out: Writable;
  now?: () => number;
  /** A simulated run spends nothing: its cost is shown as what it would cost. */
  simulated?: boolean;
}
