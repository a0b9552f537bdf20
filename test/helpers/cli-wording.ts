import { afterAll, beforeAll } from 'vitest';
import { CLI_WORDING } from '../../src/cli/advice.js';
import { useAdviceWording } from '../../src/errors.js';

/**
 * Words advice as the command line does, for the tests of a file that check messages people
 * read through it; a library caller's plain wording is back after the file.
 */
export function useCliWording(): void {
  beforeAll(() => useAdviceWording(CLI_WORDING));
  afterAll(() => useAdviceWording(undefined));
}
