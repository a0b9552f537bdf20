/**
 * The team's Redis URL as shotlist shows it. The command line reads and checks the URL
 * (`--team`, `SHOTLIST_TEAM`: see src/cli/config.ts); the team receives it parsed.
 */

/** The URL without its credentials: the only form shotlist prints. */
export function describeTeamUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
