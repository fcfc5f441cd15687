// The only module that reads Pulumi config. Everything else receives typed values.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ProgramConfig } from "./args";
import { ConfigError, readStackConfig } from "./load";
import { httpsFetcher, verifyPinnedManifest, type ManifestFetcher } from "./manifest";
import { cosignVerifier, signatureProblems, type ImageVerifier } from "./signatures";
import { validateConfig } from "./validate";

export { APP_ENVIRONMENT, type ProgramConfig } from "./args";
export { KEYS } from "./keys";
export type { KeyName, KeySpec, Kind, Values } from "./keys";
export { RULES } from "./rules";
export type { Rule } from "./rule";
export { cosignVerifier, signatureProblems, type ImageVerifier } from "./signatures";
export { validateConfig, type RawConfig } from "./validate";
export { ConfigError } from "./load";

/**
 * Reads and validates the whole stack config before any resource exists, prints what the rules
 * warn about, verifies the signature of every image a signer must vouch for, and fetches and
 * verifies an Argo Rollouts manifest pinned by digest. Throws ConfigError listing every problem,
 * so a bad config, an unsigned image or a changed manifest never leaves a half-deployed stack.
 */
export async function loadStackConfig(
  projectDir = path.resolve(__dirname, ".."),
  verify: ImageVerifier = cosignVerifier,
  fetchManifest: ManifestFetcher = httpsFetcher,
): Promise<ProgramConfig> {
  const raw = readStackConfig();
  const result = validateConfig({ ...raw, projectDir });
  for (const warning of result.warnings) {
    void pulumi.log.warn(warning);
  }
  if (!result.ok) {
    throw new ConfigError(result.errors);
  }
  const { pinnedManifest } = result.config;
  const manifestProblem = pinnedManifest && (await verifyPinnedManifest(pinnedManifest, fetchManifest));
  const problems = [
    ...signatureProblems(result.config, raw.project, verify),
    ...(manifestProblem ? [`${raw.project}:argoRolloutsManifest: ${manifestProblem}`] : []),
  ];
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return result.config;
}
