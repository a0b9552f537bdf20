/** Generates the manifest's TypeScript types from its JSON Schema. */
export function generateTypes(): Promise<string>;
