import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, top to bottom (README, "Architecture"). A folder may import its own
 * layer and those below it, never one above: the rule below fails the lint on any such import.
 * `src/index.ts` is the package's front door and may import every layer.
 */
export const LAYERS = [
  'cli',
  'ui',
  'review',
  'pipeline',
  'team',
  'render',
  'assets',
  'report',
  'sim',
  'media',
  'plan',
  'manifest',
  'api',
];

/** One lint block per layer, forbidding imports of every layer above it. */
function layerRules() {
  return LAYERS.map((layer, i) => {
    const above = LAYERS.slice(0, i);
    return {
      files: [`src/${layer}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns:
              above.length === 0
                ? []
                : [
                    {
                      regex: `^(\\.\\./)+(${above.join('|')})/`,
                      message: `${layer} may not import a layer above it (the order is in README, Architecture): move the shared code down to ${layer} or below.`,
                    },
                  ],
          },
        ],
      },
    };
  }).concat({
    files: ['src/*.ts'],
    ignores: ['src/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^\\./(${LAYERS.join('|')})/`,
              message: 'files at the root of src are the bottom layer: they import no folder.',
            },
          ],
        },
      ],
    },
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'renders/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  ...layerRules(),
  {
    // cli is the top layer (nothing above it): its commands' only rule is not to import each
    // other; what two commands share lives in src/cli/*.ts.
    files: ['src/cli/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\./',
              message:
                'a command may not import another command: move what they share to src/cli/ (e.g. run-flow.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    // Functions stay short enough to read in one screen (generated code excepted).
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.gen.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
);
