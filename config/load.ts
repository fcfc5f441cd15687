// Reading a stack's config from the Pulumi runtime, and failing before any resource exists. Shared
// by the app program (config/index.ts) and the GitHub project (github/index.ts), which validate
// different keys but read and refuse config the same way.
import * as pulumi from "@pulumi/pulumi";

/** A stack's config as the engine hands it to a program. */
export interface StackConfig {
  /** "project:key" -> string value (JSON for lists and objects). */
  values: Record<string, string>;
  /** Full keys whose values were stored encrypted. */
  secretKeys: ReadonlySet<string>;
  project: string;
  stack: string;
}

// `isConfigSecret` is exported at run time but hidden from the SDK's typings.
const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

export function readStackConfig(): StackConfig {
  const values = pulumi.runtime.allConfig();
  return {
    values,
    secretKeys: new Set(Object.keys(values).filter((key) => runtime.isConfigSecret(key))),
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
  };
}

/** Thrown for invalid stack config; Pulumi prints a RunError's message without a stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
        `nothing was created or changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
}
