// Renders Pulumi.yaml from the key table, so `pulumi config` and the CLI's own checks describe
// exactly what the program validates. `npm run gen:project` writes it; a test keeps it current.
import { dump } from "js-yaml";
import { KEYS, type KeySpec } from "./keys";

const HEADER = {
  name: "api-stack",
  description: "A containerized Python API (FastAPI or Django) on Kubernetes: image, workload, networking, scaling.",
  runtime: { name: "nodejs", options: { typescript: true, packagemanager: "npm" } },
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

if (require.main === module) {
  process.stdout.write(renderProjectFile());
}
