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
