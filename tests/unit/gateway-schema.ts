// Validates HTTPRoutes against the openAPIV3Schema of the Gateway API's own CRD, read from the
// gateway-api Go module (the version testbed/toolchain pins) in the module cache, as
// tests/support/argo-schema.ts does for Argo Rollouts. The CEL rules of the CRD
// (x-kubernetes-validations) are the API server's to check.
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { PROJECT_DIR } from "../support/program";

let validate: ((manifest: unknown) => void) | undefined;

function loadValidator(): (manifest: unknown) => void {
  const pin = /^GATEWAY_API_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(PROJECT_DIR, "testbed/toolchain"), "utf8"));
  if (!pin) {
    throw new Error("testbed/toolchain does not pin GATEWAY_API_VERSION");
  }
  const module = `sigs.k8s.io/gateway-api@v${pin[1]}`;
  const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { encoding: "utf8", env: { ...process.env, GOTOOLCHAIN: "auto" } })) as {
    Dir?: string;
    Error?: string;
  };
  if (!info.Dir) {
    throw new Error(`go mod download ${module}: ${info.Error}`);
  }
  const crd = load(fs.readFileSync(path.join(info.Dir, "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"), "utf8")) as any;
  const schema = crd.spec.versions.find((v: any) => v.name === "v1").schema.openAPIV3Schema;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const check = ajv.compile(schema);
  return (manifest) => {
    if (!check(manifest)) {
      throw new Error(`HTTPRoute fails the Gateway API CRD schema: ${ajv.errorsText(check.errors)}`);
    }
  };
}

/** Throws with the schema's complaint when the object is not a valid gateway.networking.k8s.io/v1 HTTPRoute. */
export function validateHttpRoute(manifest: { apiVersion: string; kind: string }): void {
  if (manifest.apiVersion !== "gateway.networking.k8s.io/v1" || manifest.kind !== "HTTPRoute") {
    throw new Error(`not a gateway.networking.k8s.io/v1 HTTPRoute: ${manifest.apiVersion} ${manifest.kind}`);
  }
  validate ??= loadValidator();
  validate(manifest);
}
