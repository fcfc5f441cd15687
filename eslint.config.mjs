// Lint for every TypeScript file of the repository: the program, its tests, the GitHub project and
// the policy pack. Type-aware rules, because the bugs a Pulumi program is most exposed to are
// promises and Outputs used as if they were values: an unawaited promise, a promise passed where
// a callback's result is ignored, a template literal that prints "[object Object]" or an Output.
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/.venv/", "apps/", "rendered/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // `const { dropped, ...rest } = object` is how the code leaves keys out of a copy.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
    },
  },
  {
    // Prettier wraps code at 120 columns but leaves long strings and comments as they are: this
    // catches those. An import line is Prettier's to break, and a URL reads best whole.
    plugins: { "@stylistic": stylistic },
    rules: {
      "@stylistic/max-len": ["error", { code: 120, ignoreUrls: true, ignorePattern: "^import\\s" }],
    },
  },
  {
    // Tests assert on Kubernetes objects as the mocks, the fake cluster and kubectl hand them back:
    // untyped JSON whose every field a test reads. Typing each such object to satisfy the no-unsafe
    // rules would copy the Kubernetes API's types into the tests and prove nothing more than the
    // assertions already do. The promise rules stay on here too: an unawaited assertion passes.
    files: ["**/*.test.ts", "tests/**"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  { files: ["**/*.mjs"], extends: [tseslint.configs.disableTypeChecked] },
);
