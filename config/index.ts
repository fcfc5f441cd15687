// The only module that reads Pulumi config. Everything else receives typed values.
import * as path from "node:path";
import type { ProgramConfig } from "./args";
import { ConfigError, readStackConfig } from "./load";
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
 * Reads and validates the whole stack config before any resource exists, then verifies the
 * signature of every prebuilt image the stack deploys when it names a signer. Throws ConfigError
 * listing every problem, so a bad config or an unsigned image never leaves a half-deployed stack.
 */
export function loadStackConfig(
  projectDir = path.resolve(__dirname, ".."),
  verify: ImageVerifier = cosignVerifier,
): ProgramConfig {
  const raw = readStackConfig();
  const result = validateConfig({ ...raw, projectDir });
  if (!result.ok) {
    throw new ConfigError(result.errors);
  }
  const unsigned = signatureProblems(result.config, raw.project, verify);
  if (unsigned.length > 0) {
    throw new ConfigError(unsigned);
  }
  return result.config;
}
