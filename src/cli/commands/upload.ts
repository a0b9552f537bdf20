import { EXIT_CODES, UsageError } from '../../errors.js';
import {
  ALLOW_COMMAND_FLAG,
  ALLOW_OUTSIDE_FLAG,
  allowCommandFrom,
  parseCommandArgs,
} from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist upload <manifest> [--out DIR] [--json] [--allow-outside] [--allow-command]

Uploads the local files the manifest's assets name to the storage its uploads section names,
each once, under a key made of its sha256: what \`run\` does before its first submission,
without rendering. A file already there (the journal says so, or the storage has the key) is
not sent again. Storage credentials come from the AWS environment or profile (provider s3)
or your command's own configuration (provider command); the API key is never sent.

Options:
  --out DIR          the output folder whose journal records the uploads (default renders/<name>)
  --json             one JSON document: { uploaded, existing, files: [{ file, key, url, bytes }] }
  --allow-outside    let the manifest read local files outside its folder
  --allow-command    run the program the manifest's uploads name (provider command); without
                     it (or SHOTLIST_ALLOW_COMMAND=1) nothing is uploaded and the exit is 2.
                     The command never sees SHOTLIST_API_KEY, API_KEY, SHOTLIST_TEAM or the
                     key_env variables of $SHOTLIST_ACCOUNTS

Exit 0 when every file is there, 2 on bad input, 1 when an upload failed.
`;

export default async function uploadCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    ctx.argv,
    {
      json: { type: 'boolean' },
      out: { type: 'string' },
      ...ALLOW_OUTSIDE_FLAG,
      ...ALLOW_COMMAND_FLAG,
    },
    help,
  );
  if (positionals.length !== 1)
    throw new UsageError('upload takes one manifest', 'shotlist upload <manifest>');
  const { uploadManifest } = await import('../../pipeline/uploads.js');
  const result = await uploadManifest(
    positionals[0]!,
    {
      cwd: ctx.cwd,
      env: ctx.env,
      ...(values.out !== undefined ? { out: values.out } : {}),
      allowOutside: values['allow-outside'] === true,
      allowCommand: allowCommandFrom(values, ctx.env),
    },
    values.json ? undefined : (line) => ctx.stdout.write(`${line}\n`),
  );
  if (values.json) {
    const files = result.assets.map((a) => ({
      file: a.refs[0],
      key: a.key,
      url: a.url,
      bytes: a.bytes,
    }));
    ctx.stdout.write(
      `${JSON.stringify({ uploaded: result.uploaded, existing: result.existing, files })}\n`,
    );
  }
  return EXIT_CODES.ok;
}
