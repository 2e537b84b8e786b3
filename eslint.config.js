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
    // A character beyond ASCII in a string of src/ makes V8 keep that module's whole source text
    // two bytes a character for the daemon's life: write it as an escape ('\u2026'). Comments are
    // stripped from the build and do not count.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: 'Literal[raw=/[^\\x00-\\x7F]/]', message: 'write characters beyond ASCII as escapes (\\u2026): see eslint.config.js' },
        { selector: 'TemplateElement[value.raw=/[^\\x00-\\x7F]/]', message: 'write characters beyond ASCII as escapes (\\u2026): see eslint.config.js' },
      ],
    },
  },
  {
    // The tests' TypeScript loader is plain JavaScript run by Node.
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
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
  {
    // The composition root: only app/ builds adapters; a command names no msal-node, no driver and
    // no other command (what they share is commands/context.ts). test/architecture.test.ts too.
    files: ['src/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: '@azure/msal-node', message: 'a command gets its identity from app/identity-and-graph.ts' }],
        patterns: [
          {
            group: ['**/display/ssd1306/*', '**/display/png.js', '**/display/terminal.js', '**/button/gpio.js', '**/button/keyboard.js', '**/button/index.js'],
            message: 'a command gets its display and button from app/ (displays.ts, buttons.ts)',
          },
          { group: ['./*', '!./context.js'], message: 'a command does not import another: shared plumbing goes in commands/context.ts' },
        ],
      }],
    },
  },
);
