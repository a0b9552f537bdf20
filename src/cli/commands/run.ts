/** `shotlist run`: its flow (flags, run, output) is shared with `shotlist enqueue`. */
import type { CliContext } from '../context.js';
import { runFlow, runHelp } from '../run-flow.js';

export const help = runHelp;

export default function run(ctx: CliContext): Promise<number> {
  return runFlow(ctx, 'run');
}
