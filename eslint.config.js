import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/**
 * Module boundaries (docs/architecture.md, "Module map"). Each top-level folder is one element
 * (the first matching pattern wins, so test/support precedes test). ledger-bridge's client
 * interface (client.ts: LedgerClient; connect.ts: opening one; audit.ts: a followed provenance
 * database and validation) is a file category, so the edge can depend on those three files of the
 * bridge and on nothing else of it.
 */
const folder = (type, pattern = type) => ({ type, pattern, partialMatch: false });
export const BOUNDARY_ELEMENTS = [
  folder('shared'),
  folder('firmware'),
  folder('hardware'),
  folder('edge-runtime'),
  folder('ledger-bridge'),
  folder('console'),
  folder('cli'),
  folder('cli', 'bin'),
  folder('demo'),
  folder('bench'),
  folder('test-support', 'test/support'),
  folder('test'),
];
export const BOUNDARY_FILES = [{ category: 'ledger-client', pattern: 'ledger-bridge/{client,connect,audit}.ts' }];

const PRODUCT = ['shared', 'firmware', 'hardware', 'edge-runtime', 'ledger-bridge', 'console'];
const allow = (from, to) => ({ from: { element: { type: from } }, allow: { to: { element: { types: { anyOf: to } } } } });

/** Who may import whom; everything else is an error. */
export const BOUNDARY_POLICIES = [
  allow('shared', ['shared']),
  allow('firmware', ['firmware', 'shared']),
  allow('hardware', ['hardware', 'firmware', 'shared']),
  allow('edge-runtime', ['edge-runtime', 'shared', 'console']),
  {
    from: { element: { type: 'edge-runtime' } },
    allow: { to: { element: { type: 'ledger-bridge' }, file: { categories: 'ledger-client' } } },
  },
  allow('ledger-bridge', ['ledger-bridge', 'shared', 'console']),
  // The web console (edge and auditor roles) renders what its server's API answers: it imports nothing of theirs.
  allow('console', ['console', 'shared']),
  allow('cli', ['cli', 'demo', 'bench', ...PRODUCT]),
  allow('demo', ['demo', ...PRODUCT]),
  // bench/ is measuring tooling run from a checkout (devDependencies, peers and doubles to compare
  // against), not product code: it may use test/support, never test files.
  allow('bench', ['bench', 'test-support', ...PRODUCT]),
  allow('test-support', ['test-support', 'test', 'cli', 'demo', 'bench', ...PRODUCT]),
  allow('test', ['test', 'test-support', 'cli', 'demo', 'bench', ...PRODUCT]),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.d.ts', '.*', '.*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': BOUNDARY_ELEMENTS,
      'boundaries/files': BOUNDARY_FILES,
      'boundaries/include': [
        'shared/**',
        'firmware/**',
        'hardware/**',
        'edge-runtime/**',
        'ledger-bridge/**',
        'console/**',
        'cli/**',
        'bin/**',
        'demo/**',
        'bench/**',
        'test/**',
      ],
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'import/resolver': { typescript: { alwaysTryTypes: true, project: './tsconfig.json' }, node: true },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: BOUNDARY_POLICIES }],
    },
  },
  {
    files: ['bin/**/*.js', '.ci/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
