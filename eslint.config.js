import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/pb/*.ts', '**/dist-harness/**', '**/node_modules/**', 'e2e/test-results/**', 'e2e/playwright-report/**', '**/*.js', '**/*.mjs']
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['e2e/**', 'scripts/**', '**/*.test.ts', 'packages/relay/src/cli.ts', 'packages/demo-app/**'],
    rules: { 'no-console': 'off' }
  }
)
