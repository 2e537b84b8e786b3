// Lint rules: the recommended sets of ESLint and typescript-eslint, and the layers of src/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The adapters (auth, graph, display, button, service, config, net) and the utilities they share
 * (files, retry) know nothing of the agent, of the composition root or of the commands: only
 * agent/, app/ and commands/ connect them.
 * test/architecture.test.ts holds the same rule for a checkout without ESLint.
 */
const LOWER_LAYERS = ['auth', 'graph', 'display', 'button', 'service', 'config', 'net', 'files', 'retry'];
const UPPER_LAYERS = ['agent', 'app', 'commands'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: LOWER_LAYERS.map((dir) => `src/${dir}/**/*.ts`),
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: UPPER_LAYERS.flatMap((dir) => [`**/${dir}/*`, `**/${dir}/**`]),
          message: 'an adapter must not import the agent, the composition root or a command: move the type to the port that owns it',
        }],
      }],
    },
  },
);
