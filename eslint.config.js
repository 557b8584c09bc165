// Lint: typescript-eslint with type information, so promise mistakes (a floating promise, an
// async callback where a void one is expected) are errors, not review comments. Formatting is
// Prettier's job (eslint-config-prettier turns off every rule that would disagree with it).
import eslint from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // test/fixtures holds data, some of it deliberately broken (a misbehaving scorer module).
  { ignores: ["dist/", "node_modules/", "results/", "bench/out/", "coverage/", "test/fixtures/"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            "*.js",
            "*.ts",
            "bin/*.js",
            "scripts/*.ts",
            "scripts/*.mjs",
            "test/helpers/*.mjs",
            "bench/*.mjs",
          ],
          // The loose scripts above are nine files (launcher, build and bench scripts, configs);
          // the default cap of 8 is a guard against globs that sweep in whole folders.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // A default branch is a deliberate catch-all (unknown CSV error codes, typeof checks).
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Off: the code throws Error subclasses and rethrows caught values as they are; after a
      // truthiness check TypeScript types a caught `unknown` as `{}`, which this rule refuses.
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/prefer-promise-reject-errors": [
        "error",
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // An async function that does not await still turns a throw into a rejection, which callers
      // of Promise-returning interfaces rely on.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Tests read parsed JSON (reports, journals, HTTP bodies) and check it with expect(); typing
    // every JSON.parse there adds noise without catching anything expect() would not.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
    },
  },
  {
    // Published coefficient tables, quoted with all their digits so they can be checked against the source.
    files: ["src/stats/paired.ts"],
    rules: { "no-loss-of-precision": "off" },
  },
  {
    // Plain JavaScript (the bin launcher, this file): no type information to lint with.
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
  prettier,
);
