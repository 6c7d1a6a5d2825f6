// Lint catches what the compiler does not: promises nobody awaits, and workflow code reaching for
// things Temporal's deterministic sandbox cannot run. Formatting is prettier's job (.prettierrc.json).
import tseslint from 'typescript-eslint';

/** The lib/ files workflow code may import: pure, or built on @temporalio/workflow only. */
const workflowSafeLib = ['errors', 'temporal/run-tag', 'temporal/task-queues', 'metrics/workflow-metrics'];
const packages = '(@temporalio/workflow|@temporalio/common|zod)$';
const lib = (up) => `${up}lib/(${workflowSafeLib.join('|')})$`;

/** Everything a workflow file may import, given the path from its folder up to the project root. */
function workflowImportRule(allowedRelative) {
  return [
    'error',
    {
      patterns: [
        {
          regex: `^(?!${packages}|${allowedRelative})`,
          allowTypeImports: true,
          message: `Workflow code runs in Temporal's deterministic sandbox: import only @temporalio/workflow, @temporalio/common, zod, contracts/, other workflows/ files and lib/{${workflowSafeLib.join(',')}}; activities, client and Node code only with \`import type\`.`,
        },
      ],
    },
  ];
}

/** Contracts are shared by every layer, workflows included: zod and other contracts; anything else as types only. */
function contractsImportRule(allowedRelative) {
  return [
    'error',
    { patterns: [{ regex: `^(?!zod$|${allowedRelative})`, allowTypeImports: true, message: 'contracts/ import only zod and other contracts/ files; anything else with `import type`.' }] },
  ];
}

export default tseslint.config(
  {
    ignores: ['node_modules/', '.tools/', '.data/', '.artifacts/', 'dist/', 'bench/results/', '**/histories/', '**/*.json'],
  },
  {
    files: ['**/*.{ts,js,mjs}'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        // Files outside tsconfig.json's folders (this config, bin/, scripts/*.mjs) get a default project.
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // An unawaited promise loses its error and its ordering; fire-and-forget is written `void p` with a why-comment.
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise where a boolean or a void callback is expected is never waited for either.
      '@typescript-eslint/no-misused-promises': 'error',
      // Awaiting what is not a promise is a misunderstanding; Promise.all over promises and undefineds is fine.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
    },
  },
  {
    files: ['workflows/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': workflowImportRule(`\\./|\\.\\./contracts/|${lib('\\.\\./')}`) },
  },
  {
    files: ['contracts/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': contractsImportRule('\\./') },
  },
  {
    files: ['contracts/*/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': contractsImportRule('\\./|\\.\\./(?!\\.\\./)') },
  },
  {
    files: ['workflows/*/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': workflowImportRule(`\\./|\\.\\./(?!\\.\\./)|\\.\\./\\.\\./contracts/|${lib('\\.\\./\\.\\./')}`) },
  },
);
