// Validates Rollouts and AnalysisTemplates against the openAPIV3Schema of Argo Rollouts' own
// CRDs, read from the argo-rollouts Go module (the version testbed/toolchain pins) in the
// module cache; nothing of Argo's is copied into this repository.
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { PROJECT_DIR } from "./harness";

const CRD_FILES: Record<string, string> = {
  Rollout: "rollout-crd.yaml",
  AnalysisTemplate: "analysis-template-crd.yaml",
};

function argoModuleDir(): string {
  const pin = /^ARGO_ROLLOUTS_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(PROJECT_DIR, "testbed/toolchain"), "utf8"));
  if (!pin) {
    throw new Error("testbed/toolchain does not pin ARGO_ROLLOUTS_VERSION");
  }
  const module = `github.com/argoproj/argo-rollouts@v${pin[1]}`;
  // The module declares a newer Go than the machine may have; `auto` fetches it as the build does.
  const env = { ...process.env, GOTOOLCHAIN: "auto" };
  const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { encoding: "utf8", env })) as {
    Dir?: string;
    Error?: string;
  };
  if (!info.Dir) {
    throw new Error(`go mod download ${module}: ${info.Error}`);
  }
  return info.Dir;
}

let validators: Map<string, (manifest: unknown) => void> | undefined;

function loadValidators(): Map<string, (manifest: unknown) => void> {
  const dir = path.join(argoModuleDir(), "manifests/crds");
  // Kubernetes' structural-schema extensions (x-kubernetes-*) are not JSON Schema keywords.
  // Formats (int32, date-time) only refine types the schema already checks.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const result = new Map<string, (manifest: unknown) => void>();
  for (const [kind, file] of Object.entries(CRD_FILES)) {
    const crd = load(fs.readFileSync(path.join(dir, file), "utf8")) as any;
    const version = crd.spec.versions.find((v: any) => v.name === "v1alpha1");
    const validate = ajv.compile(version.schema.openAPIV3Schema);
    result.set(kind, (manifest) => {
      if (!validate(manifest)) {
        throw new Error(`${kind} fails the Argo Rollouts CRD schema: ${ajv.errorsText(validate.errors)}`);
      }
    });
  }
  return result;
}

export function validateArgoManifest(manifest: { kind: string }): void {
  validators ??= loadValidators();
  const validate = validators.get(manifest.kind);
  if (!validate) {
    throw new Error(`no Argo Rollouts CRD schema for kind ${manifest.kind}`);
  }
  validate(manifest);
}
