// End-to-end harness: the real Pulumi engine (CLI built by scripts/toolchain, driven through the
// Automation API with the program run in-process), the real kube-apiserver and Argo Rollouts
// controller of scripts/local-env, real dockerd and registry. scripts/test-e2e sets the
// environment this reads (KUBECONFIG, PULUMI_HOME, PATH).
import { LocalWorkspace, type ConfigMap, type Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PROJECT_DIR = path.resolve(__dirname, "../..");
export const PROJECT = "api-stack";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the end-to-end tests through scripts/test-e2e`);
  }
  return value;
}

export const KUBECONFIG = required("KUBECONFIG");
const BACKEND_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-e2e-state-"));
const PASSPHRASE = "api-stack-e2e";

/** The program exactly as the CLI would run index.ts, loaded fresh for every operation. */
async function program(): Promise<Record<string, unknown>> {
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(PROJECT_DIR) && !key.includes("node_modules") && !key.includes(`${path.sep}tests${path.sep}`)) {
      delete require.cache[key];
    }
  }
  return (require(path.join(PROJECT_DIR, "index.ts")) as () => Promise<Record<string, unknown>>)();
}

/**
 * A fresh stack of this project on a file backend, with the given config on top of Pulumi.yaml's
 * defaults. It lives in its own directory (with a copy of Pulumi.yaml), so its stack file never
 * lands in the repository.
 */
export async function newStack(name: string, config: ConfigMap): Promise<Stack> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `api-stack-e2e-${name}-`));
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: name, projectName: PROJECT, program },
    {
      workDir,
      envVars: {
        PULUMI_BACKEND_URL: `file://${BACKEND_DIR}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        KUBECONFIG,
      },
    },
  );
  await stack.setAllConfig(config);
  return stack;
}

/** Config values from short keys; `secret` lists the ones to store encrypted. */
export function config(values: Record<string, string | number | boolean | object>, secret: string[] = []): ConfigMap {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      `${PROJECT}:${key}`,
      { value: typeof value === "string" ? value : JSON.stringify(value), secret: secret.includes(key) },
    ]),
  );
}

export function kubectl(...args: string[]): string {
  return execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function kubectlJson<T = any>(...args: string[]): T {
  return JSON.parse(kubectl(...args, "-o", "json")) as T;
}

export function exists(kind: string, name: string, namespace?: string): boolean {
  try {
    kubectl("get", kind, name, ...(namespace ? ["-n", namespace] : []));
    return true;
  } catch {
    return false;
  }
}

/** Polls until `check` returns a value (not undefined), or fails with the last state seen. */
export async function eventually<T>(what: string, seconds: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const value = check();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export const releaseId = (ref: string) => ref.split("@sha256:")[1].slice(0, 12);

/** Progress lines for long steps, so a CI log shows where the time goes. */
export function progress(message: string): void {
  process.stderr.write(`    [e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
