// Validates custom resources (Argo Rollouts' Rollouts and AnalysisTemplates, Gateway API's
// HTTPRoutes, the Prometheus Operator's PodMonitors and PrometheusRules) against the
// openAPIV3Schema of their own CRDs, read from the Go modules of the versions testbed/toolchain
// pins, in the module cache; nothing of theirs is copied into this repository. The CRDs' CEL
// rules (x-kubernetes-validations) are the API server's to check.
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { PROJECT_DIR } from "../../tools/program";

interface CrdSource {
  /** How errors name the project. */
  project: string;
  module: string;
  /** The variable of testbed/toolchain that pins the module's version. */
  pin: string;
  /** The CRD file of each kind, in the module. */
  files: Record<string, string>;
}

/** By API group: where each group's CRDs come from. */
const SOURCES: Record<string, CrdSource> = {
  "argoproj.io": {
    project: "Argo Rollouts",
    module: "github.com/argoproj/argo-rollouts",
    pin: "ARGO_ROLLOUTS_VERSION",
    files: {
      Rollout: "manifests/crds/rollout-crd.yaml",
      AnalysisTemplate: "manifests/crds/analysis-template-crd.yaml",
    },
  },
  "monitoring.coreos.com": {
    project: "Prometheus Operator",
    module: "github.com/prometheus-operator/prometheus-operator",
    pin: "PROMETHEUS_OPERATOR_VERSION",
    files: {
      PodMonitor: "example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",
      PrometheusRule: "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
    },
  },
  "gateway.networking.k8s.io": {
    project: "Gateway API",
    module: "sigs.k8s.io/gateway-api",
    pin: "GATEWAY_API_VERSION",
    files: { HTTPRoute: "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" },
  },
};

function moduleDir(source: CrdSource): string {
  const pin = new RegExp(`^${source.pin}=(\\S+)$`, "m").exec(
    fs.readFileSync(path.join(PROJECT_DIR, "testbed/toolchain"), "utf8"),
  );
  if (!pin) {
    throw new Error(`testbed/toolchain does not pin ${source.pin}`);
  }
  const module = `${source.module}@v${pin[1]}`;
  // A module may declare a newer Go than the machine has; `auto` fetches it, as the toolchain's build does.
  const info = JSON.parse(
    execFileSync("go", ["mod", "download", "-json", module], {
      encoding: "utf8",
      env: { ...process.env, GOTOOLCHAIN: "auto" },
    }),
  ) as {
    Dir?: string;
    Error?: string;
  };
  if (!info.Dir) {
    throw new Error(`go mod download ${module}: ${info.Error}`);
  }
  return info.Dir;
}

/**
 * The CRDs' patterns are Go regular expressions; the one Go syntax they use that JavaScript lacks
 * is a case-insensitive flag, `(?i)`, at their start (the Prometheus Operator's `^(?i)(abort|warn)?$`),
 * which becomes the `i` flag.
 */
const GO_CASE_INSENSITIVE = /^(\^?)\(\?i\)/;
const goRegExp = Object.assign(
  (pattern: string, flags: string) =>
    GO_CASE_INSENSITIVE.test(pattern)
      ? new RegExp(pattern.replace(GO_CASE_INSENSITIVE, "$1"), `${flags}i`)
      : new RegExp(pattern, flags),
  { code: "goRegExp" },
);

// Kubernetes' structural-schema extensions (x-kubernetes-*) are not JSON Schema keywords.
// Formats (int32, date-time) only refine types the schema already checks.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });
const validators = new Map<string, (manifest: unknown) => void>();

function validatorFor(apiVersion: string, kind: string): (manifest: unknown) => void {
  const key = `${apiVersion} ${kind}`;
  const known = validators.get(key);
  if (known) {
    return known;
  }
  const [group, version] = apiVersion.split("/");
  const source = SOURCES[group];
  const file = source?.files[kind];
  if (!source || !file) {
    throw new Error(`no CRD schema for ${key}`);
  }
  const crd = load(fs.readFileSync(path.join(moduleDir(source), file), "utf8")) as any;
  const served = crd.spec.versions.find((v: any) => v.name === version);
  if (!served) {
    throw new Error(`the ${source.project} CRD of ${kind} has no version ${version}`);
  }
  const check = ajv.compile(served.schema.openAPIV3Schema);
  const validate = (manifest: unknown) => {
    if (!check(manifest)) {
      throw new Error(`${kind} fails the ${source.project} CRD schema: ${ajv.errorsText(check.errors)}`);
    }
  };
  validators.set(key, validate);
  return validate;
}

/** Whether the object is of a group whose CRDs this module reads. */
export function isCustomResource(manifest: Record<string, any>): boolean {
  return String(manifest.apiVersion).split("/")[0] in SOURCES;
}

/** Throws with the schema's complaint when the object does not match its CRD's schema. */
export function validateCustomResource(manifest: Record<string, any>): void {
  validatorFor(String(manifest.apiVersion), String(manifest.kind))(manifest);
}
