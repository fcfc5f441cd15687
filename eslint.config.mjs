// Lint for every TypeScript file of the repository: the program, its tests, the GitHub project and
// the policy pack. Type-aware rules, because the bugs a Pulumi program is most exposed to are
// promises and Outputs used as if they were values: an unawaited promise, a promise passed where
// a callback's result is ignored, a template literal that prints "[object Object]" or an Output.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "apps/", "rendered/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  { files: ["**/*.mjs"], extends: [tseslint.configs.disableTypeChecked] },
);
