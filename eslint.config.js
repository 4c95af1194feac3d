import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The layering of STYLE.md: the core and pki never reach for frameworks or drivers.
    files: ['src/core/**/*.ts', 'src/pki/**/*.ts', 'src/kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fastify', 'kysely', 'pg', 'better-sqlite3', 'acme-client', 'node:dns*', 'pino'], message: 'the core stays free of frameworks and drivers; declare a port' },
            { group: ['**/adapters/**', '**/http/**', '**/cli/**'], message: 'dependencies point inward: core → kernel, pki' },
          ],
        },
      ],
    },
  },
);
