// Lint: typescript-eslint's recommended rules over everything we compile or run; formatting is Prettier's job.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".nr5/", ".nr24/", ".scorecard/", ".demo/", "coverage/", "test-results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-explicit-any": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-console": "off",
      // `import x = require()` is how TypeScript imports an `export =` module (every Node-RED node file).
      "@typescript-eslint/no-require-imports": ["error", { allowAsImport: true }],
      // Node-RED's own pattern: `const node = this` in a node constructor.
      "@typescript-eslint/no-this-alias": ["error", { allowedNames: ["node"] }],
    },
  },
  {
    // Nodes and the CLI use the core through its facade (src/core/index.ts), never its internals.
    files: ["src/nodes/**/*.ts", "src/cli/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)core/.",
              message: 'Import from the core\'s facade (src/core/index.ts, e.g. "../core"); export what you need there.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    languageOptions: {
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Served to the editor as plain browser script (resources/ is what Node-RED serves at resources/<module>/): ES5, no modules.
    files: ["resources/**/*.js"],
    languageOptions: {
      ecmaVersion: 5,
      sourceType: "script",
      globals: { window: "readonly", jQuery: "readonly", RED: "readonly" },
    },
  },
  prettier,
);
