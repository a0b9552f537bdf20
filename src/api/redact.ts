/**
 * Removes secrets from text before it is shown or written. Every message that leaves the
 * client (errors, events, journal, report) passes through here.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Short strings would blank out ordinary words; a real key is never this short.
    if (secret.length < 4) continue;
    out = out.split(secret).join('***');
  }
  return out;
}

// Every key this process has been given: text from tools (ffmpeg, ffprobe) that never saw the
// client is redacted against them too, since a URL or a file name can carry a key there.
const remembered = new Set<string>();

/** Adds a key to the ones {@link redactKnown} removes. */
export function rememberSecret(secret: string): void {
  if (secret.length >= 4) remembered.add(secret);
}

/** Removes every remembered key, and the keys in the usual variables of `env`, from `text`. */
export function redactKnown(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = [env.SHOTLIST_API_KEY, env.API_KEY].filter((k): k is string => !!k?.trim());
  return redact(text, [...remembered, ...fromEnv.map((k) => k.trim())]);
}

// Terminal escape sequences, 7-bit and 8-bit: OSC/DCS/SOS/PM/APC strings up to their
// terminator (or the end: an unterminated one would swallow what a terminal prints next),
// CSI sequences, then any other two-byte escape.
const ESCAPES = new RegExp(
  [
    String.raw`(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)`,
    String.raw`(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?`,
    String.raw`\x1b[\s\S]?`,
  ].join('|'),
  'g',
);
// C0 and C1 controls (line breaks included: a server must not start a line of its own),
// and the bidirectional overrides that make text read differently from what it holds.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** Removes terminal escape sequences and control characters; line breaks become spaces. */
export function stripControls(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROLS, ' ');
}

/**
 * The one cleaning of text that came from a server: escape sequences and control characters
 * out, every secret redacted, at most `max` characters. Stripping comes first, so a key
 * split by an escape sequence is still found.
 */
export function cleanServerText(text: string, secrets: readonly string[], max = 1000): string {
  const clean = redact(stripControls(text), secrets).trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
