/** `shotlist enqueue`: a run whose shots are sent by the team's workers, not by this machine. */
import { runFlow } from '../run-flow.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist enqueue <manifest> --team redis://HOST:PORT/DB [options]

Prepares the manifest as \`run\` does (plan, budget, confirmation or --yes, uploads of local
files), then sends nothing itself: every shot to render goes on the team's queue, where
machines running \`shotlist run --team ... --worker\` for the same API take, claim and submit
them with their own keys. This process follows the shared facts, downloads each finished
clip from its task's URL into its own output folder (no shared filesystem), journals it,
stitches and writes the report as \`run\` would. Enqueueing the same manifest twice adds
nothing: a shot's job is its journal key, and a shot already sent is not sent again, by a
worker or by a plain \`run --team\` on another machine.

Takes the options of \`run\` (see \`shotlist run --help\`) except those the workers decide:
--worker, --team-budget, --team-campaign and --listen. --concurrency is the number of shots
followed and downloaded at once here; the workers' --concurrency bounds the tasks in flight.
The uploads run here: a manifest whose uploads name a command needs --allow-command (or
SHOTLIST_ALLOW_COMMAND=1) as with \`run\`.
A shot no worker ends within 30 minutes stays queued: enqueue again to collect it.

A worker that died between a POST and its task id leaves its shot unknown (the task may
exist and be billed): nobody sends it again by itself. --retry-unknown marks this manifest's
unknown shots in the shared facts so that the workers send each once more (a new attempt:
the unknown one stays counted as may have been billed), then follows them as any other.
Enqueued again without it, an unknown shot another machine of the team has finished since is
collected (checked with the API when a key is here), and the finals are stitched.
  --wait-unknown MIN  keep watching each shot found unknown (left so by a worker in this
                      run, or by an earlier one) for MIN minutes from when it is found, so
                      that a retry another terminal or machine makes meanwhile
                      (\`enqueue --retry-unknown\`, \`run --team --retry-unknown\`) is collected,
                      journaled and stitched here. Default 0: an unknown shot ends the run's
                      wait for it at once. The watch ends early when the retry starts (the
                      shot is then followed as any other) or on Ctrl-C; it never queues the
                      shot again.

The shared facts in Redis are hints: with the team's API key (SHOTLIST_API_KEY, API_KEY or
.env) every task they name is asked of the API, and only the URL the API gives is downloaded
(a task it does not know is refused, nothing journaled). Without a key it sends nothing to
the API and trusts the team's Redis for each task and clip URL, and says so when it starts.

Exit 0 all shots done, 1 some failed, 2 bad input, 3 over budget (nothing queued), 130 interrupted.
`;

/** Runs `shotlist run`'s flow in its enqueue mode. */
export default function enqueue(ctx: CliContext): Promise<number> {
  return runFlow(ctx, 'enqueue');
}
