// The only module that reads Pulumi config. Everything else receives typed values.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { ProgramConfig } from "./args";
import { cosignVerifier, signatureProblems, type ImageVerifier } from "./signatures";
import { validateConfig } from "./validate";

export { APP_ENVIRONMENT, type ProgramConfig } from "./args";
export { KEYS } from "./keys";
export type { KeyName, KeySpec, Kind, Values } from "./keys";
export { RULES, type Rule } from "./rules";
export { cosignVerifier, signatureProblems, type ImageVerifier } from "./signatures";
export { validateConfig, type RawConfig } from "./validate";

/** Thrown for invalid stack config; Pulumi prints a RunError's message without a stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
        `nothing was created or changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
}

// `isConfigSecret` is exported at run time but hidden from the SDK's typings.
const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

/**
 * Reads and validates the whole stack config before any resource exists, then verifies the
 * signature of every prebuilt image the stack deploys when it names a signer. Throws ConfigError
 * listing every problem, so a bad config or an unsigned image never leaves a half-deployed stack.
 */
export function loadStackConfig(
  projectDir = path.resolve(__dirname, ".."),
  verify: ImageVerifier = cosignVerifier,
): ProgramConfig {
  const values = pulumi.runtime.allConfig();
  const secretKeys = new Set(Object.keys(values).filter((key) => runtime.isConfigSecret(key)));
  const result = validateConfig({
    values,
    secretKeys,
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    projectDir,
  });
  if (!result.ok) {
    throw new ConfigError(result.errors);
  }
  const unsigned = signatureProblems(result.config, pulumi.getProject(), verify);
  if (unsigned.length > 0) {
    throw new ConfigError(unsigned);
  }
  return result.config;
}
