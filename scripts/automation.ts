// Shared by scripts/local.ts (the main job on the local cluster) and the end-to-end tests: the
// program run in-process through the Automation API, with a stack kept in a directory of its
// own (a copy of Pulumi.yaml beside its stack file), so nothing it writes lands in the repo.
import { LocalWorkspace, type ConfigMap, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { KEYS } from "../config/keys";
import { loadProgram, PROJECT, PROJECT_DIR } from "../tests/support/program";
import { buildAndPush } from "./images";

export type ConfigValues = Record<string, string | number | boolean | object>;

/** The plain (non-secret) values of a committed stack file, by short key. */
export function stackFileValues(stack: string): ConfigValues {
  const file = load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config: ConfigValues };
  return Object.fromEntries(
    Object.entries(file.config)
      .filter(([, value]) => !(typeof value === "object" && value !== null && "secure" in value))
      .map(([key, value]) => [key.replace(`${PROJECT}:`, ""), value]),
  );
}

/**
 * Sets config by short key; `secret` names the ones stored encrypted. Lists of strings are
 * set element by element (as `pulumi config set --path key[0]`), so the CLI stores a real list
 * and its type check against Pulumi.yaml passes; other structures are stored as JSON.
 */
export async function setConfig(stack: Stack, values: ConfigValues, secret: string[] = []): Promise<void> {
  const config: ConfigMap = {};
  for (const [key, value] of Object.entries(values)) {
    const isSecret = secret.includes(key);
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      await stack.removeConfig(`${PROJECT}:${key}`).catch(() => undefined);
      value.forEach((item, i) => (config[`${PROJECT}:${key}[${i}]`] = { value: item, secret: isSecret }));
    } else {
      config[`${PROJECT}:${key}`] = { value: typeof value === "string" ? value : JSON.stringify(value), secret: isSecret };
    }
  }
  await stack.setAllConfig(config, true);
}

/**
 * Builds the app the dev stack builds (its imageContext and build args, such as the locally
 * built BASE_IMAGE) with dockerd, pushes it as `tag`, and returns its digest-pinned reference.
 */
export function buildDevImage(tag: string): string {
  const { imageContext, imageBuildArgs } = stackFileValues("dev");
  return buildAndPush({
    context: path.join(PROJECT_DIR, String(imageContext ?? KEYS.imageContext.default)),
    tag,
    buildArgs: imageBuildArgs as Record<string, string> | undefined,
  });
}

/**
 * A committed stack's shape (dev or prod) for the local environment: its plain values, the
 * given prebuilt image instead of a build, the given secrets, and no wait for an Ingress
 * address (the local cluster runs no ingress controller).
 */
export function localShape(stack: "dev" | "prod", imageRef: string, secrets: Record<string, string>): ConfigValues {
  const { imageRepository: _repository, imageBuildArgs: _buildArgs, ...values } = stackFileValues(stack);
  return { ...values, imageRef, ingressWaitForAddress: false, ...secrets };
}

export interface SideStackOptions {
  /** Directory for the stack's project copy and stack file. */
  workDir: string;
  /** Directory of the file backend (state). */
  backendDir: string;
  passphrase: string;
  kubeconfig: string;
}

/** Creates or selects a stack of this project whose files live outside the repository. */
export async function sideStack(name: string, options: SideStackOptions): Promise<Stack> {
  fs.mkdirSync(options.workDir, { recursive: true });
  fs.mkdirSync(options.backendDir, { recursive: true });
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(options.workDir, "Pulumi.yaml"));
  return LocalWorkspace.createOrSelectStack(
    { stackName: name, projectName: PROJECT, program: loadProgram },
    {
      workDir: options.workDir,
      envVars: {
        PULUMI_BACKEND_URL: `file://${options.backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: options.passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        KUBECONFIG: options.kubeconfig,
      },
    },
  );
}
