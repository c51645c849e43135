import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

/** Electron and the UI framework stay out of every layer below the app's own two. */
const NOT_BELOW_APP = ['electron', 'svelte', 'svelte/*'];

/** One no-restricted-imports rule per layer: the src/ folders it must not import from. */
function layerRules(forbidden) {
  return Object.entries(forbidden).map(([files, layers]) => {
    const packages =
      files.startsWith('src/main') ||
      files.startsWith('src/preload') ||
      files.startsWith('src/renderer')
        ? []
        : NOT_BELOW_APP;
    return {
      files: [files.replace('/**', '/**/*.{ts,svelte}')],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...packages.map((group) => ({
                group: [group],
                message: 'Electron and Svelte stay in main, preload and renderer.',
              })),
              ...layers.map((layer) => ({
                group: [`**/${layer}/**`, `**/${layer}`],
                message: `${files.split('/')[1]} may not import src/${layer} (layers import downward only: docs/architecture.md).`,
              })),
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'build/', 'resources/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  // Layers import downward only (docs/architecture.md): each layer lists what it may not reach.
  ...layerRules({
    'src/shared/**': ['core', 'results', 'lab', 'cli', 'main', 'preload', 'renderer'],
    'src/core/**': ['results', 'lab', 'cli', 'main', 'preload', 'renderer'],
    'src/results/**': ['core', 'lab', 'cli', 'main', 'preload', 'renderer'],
    'src/lab/**': ['cli', 'main', 'preload', 'renderer'],
    'src/cli/**': ['main', 'preload', 'renderer'],
    'src/main/**': ['cli', 'preload', 'renderer'],
    'src/preload/**': ['core', 'results', 'lab', 'cli', 'main', 'renderer'],
    'src/renderer/**': ['core', 'lab', 'cli', 'main', 'preload'],
  }),
);
