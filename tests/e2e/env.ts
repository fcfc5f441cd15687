// End-to-end harness: the real Pulumi engine (CLI built by testbed/toolchain, driven through the
// Automation API with the program run in-process), the real kube-apiserver and Argo Rollouts
// controller of testbed/local-env, real dockerd and registry. scripts/test-e2e sets the
// environment this reads (KUBECONFIG, PULUMI_HOME, PATH).
import type { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setConfig, sideStack, type ConfigValues } from "../../scripts/automation";

export { releaseId } from "../../components/release";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the end-to-end tests through scripts/test-e2e`);
  }
  return value;
}

export const KUBECONFIG = required("KUBECONFIG");
const RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-e2e-"));

/** A fresh stack on a throwaway file backend, with `values` on top of Pulumi.yaml's defaults. */
export async function newStack(name: string, values: ConfigValues, secret: string[] = []): Promise<Stack> {
  const stack = await sideStack(name, {
    workDir: path.join(RUN_DIR, name),
    backendDir: path.join(RUN_DIR, "state"),
    passphrase: "api-stack-e2e",
    kubeconfig: KUBECONFIG,
  });
  await setConfig(stack, values, secret);
  return stack;
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

/** Polls until `check` returns a value (not undefined), or fails with the last error seen. */
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

/** Operations in a change summary other than "same" and "read" (the stack's reference to itself). */
export function changes(summary: Record<string, number> | undefined): string[] {
  return Object.keys(summary ?? {}).filter((op) => op !== "same" && op !== "read");
}


/** Progress lines for long steps, so a CI log shows where the time goes. */
export function progress(message: string): void {
  process.stderr.write(`    [e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
