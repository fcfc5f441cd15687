// Renders Pulumi.yaml and docs/config.md from the key table and the rule list, so `pulumi
// config`, the CLI's own checks and the reference describe exactly what the program validates.
// `npm run gen:project` writes both; a test keeps them current.
import { dump } from "js-yaml";
import { KEYS, type KeySpec } from "./keys";
import { RULES } from "./rules";

const HEADER = {
  name: "api-stack",
  description: "A containerized Python API (FastAPI or Django) on Kubernetes: image, workload, networking, scaling.",
  // tsconfig.program.json: transpiled without type checks, which `npx tsc -p .` makes in CI.
  runtime: { name: "nodejs", options: { typescript: true, packagemanager: "npm", tsconfig: "tsconfig.program.json" } },
};

/**
 * Keys with a default, and keys every stack must set, are declared. Keys needed only in some
 * combinations (databaseUrl unless dev services, ...) cannot be: Pulumi treats a declared key
 * without a default as required everywhere. The program validates those itself.
 */
export function renderProjectFile(): string {
  const config: Record<string, object> = {};
  for (const [name, spec] of Object.entries(KEYS) as [string, KeySpec][]) {
    if (spec.kind === "object" || !("default" in spec || spec.required)) {
      continue;
    }
    config[name] = {
      type: spec.kind,
      ...(spec.kind === "array" ? { items: { type: "string" } } : {}),
      description: spec.description,
      ...(spec.secret ? { secret: true } : {}),
      ...("default" in spec ? { default: spec.default } : {}),
    };
  }
  const banner = "# Generated from config/keys.ts by `npm run gen:project`; edit the table there.\n";
  return banner + dump({ ...HEADER, config }, { lineWidth: 120, noRefs: true, flowLevel: 3 });
}

/** The config reference (docs/config.md): every key, its default, what it accepts, and the rules between keys. */
export function renderConfigReference(): string {
  const rows = (Object.entries(KEYS) as [string, KeySpec][]).map(([name, spec]) => {
    const shown = "default" in spec ? `\`${JSON.stringify(spec.default)}\`` : spec.required ? "required" : "unset";
    const flags = [spec.secret ? "secret" : "", spec.kind].filter(Boolean).join(", ");
    return `| \`${name}\` | ${flags} | ${shown} | ${spec.description} Accepts ${spec.allowed}. |`;
  });
  return [
    "# Stack configuration",
    "",
    "Generated from `config/keys.ts` and `config/rules.ts` by `npm run gen:project`. Set a key with",
    "`pulumi config set KEY VALUE` (secrets: `pulumi config set --secret KEY VALUE`; lists and objects:",
    "JSON). The program validates every key before it creates anything and names the key, the value",
    "and what is allowed in each error.",
    "",
    "| key | kind | default | meaning |",
    "|---|---|---|---|",
    ...rows,
    "",
    "## Rules between keys",
    "",
    "Generated from `config/rules.ts`. Checked after every key has parsed on its own; a rule says",
    "nothing about a key that was itself invalid.",
    "",
    "| rule | keys |",
    "|---|---|",
    ...RULES.map((rule) => `| ${rule.rule} | ${rule.keys.map((key) => `\`${key}\``).join(", ")} |`),
    "",
  ].join("\n");
}

if (require.main === module) {
  const [target] = process.argv.slice(2);
  process.stdout.write(target === "reference" ? renderConfigReference() : renderProjectFile());
}
