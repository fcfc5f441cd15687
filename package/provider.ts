// The component provider of the package: the engine starts it through the launcher
// (package/pulumi-resource-api-stack) when a program in any language declares an ApiStack, and
// calls `construct`, which checks the inputs with the program's own rules (package/args.ts) and
// only then builds the ApiStack, whose resources the engine registers as the component's children.
import * as pulumi from "@pulumi/pulumi";
import * as provider from "@pulumi/pulumi/provider";
import { clusterReleaseReader, type ClusterAccess, type ReleaseReader } from "../components/api/cluster-reader";
import { ApiStack } from "../components/api-stack";
import { cosignVerifier, signatureProblems } from "../config/signatures";
import { componentConfig, type ResolvedInput } from "./args";
import { packageSchema, TOKEN, VERSION } from "./package-schema";

/**
 * What an Output holds behind its public face (the SDK's output.js). The provider host hands
 * secret and computed inputs over as Outputs; ApiStack takes plain data, so each is read out
 * here, with whether it was known and secret, the way the SDK's own provider server reads them.
 */
interface OutputInternals {
  isKnown: Promise<boolean>;
  promise(): Promise<unknown>;
}

/** An input with every Output in it resolved: known only if all of it is, secret if any of it is. */
export async function resolveInput(value: unknown): Promise<ResolvedInput> {
  if (pulumi.Output.isInstance(value)) {
    const output = value as unknown as OutputInternals;
    const [known, secret] = await Promise.all([output.isKnown, pulumi.isSecret(value)]);
    if (!known) {
      return { value: undefined, known: false, secret };
    }
    const inner = await resolveInput(await output.promise());
    return { ...inner, secret: secret || inner.secret };
  }
  if (pulumi.isUnknown(value)) {
    return { value: undefined, known: false, secret: false };
  }
  if (Array.isArray(value)) {
    return combine(await Promise.all(value.map(resolveInput)), (values) => values);
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    const resolved = await Promise.all(entries.map(([, item]) => resolveInput(item)));
    return combine(resolved, (values) => Object.fromEntries(entries.map(([key], i) => [key, values[i]])));
  }
  return { value, known: true, secret: false };
}

function combine(parts: ResolvedInput[], build: (values: unknown[]) => unknown): ResolvedInput {
  const known = parts.every((part) => part.known);
  return {
    value: known ? build(parts.map((part) => part.value)) : undefined,
    known,
    secret: parts.some((part) => part.secret),
  };
}

/** Every problem with one ApiStack's inputs; the engine shows the message and nothing is registered. */
export class ApiStackArgsError extends Error {
  constructor(
    name: string,
    readonly problems: string[],
  ) {
    super(
      `Invalid inputs of ApiStack "${name}" (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
        `nothing was created or changed:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
  }
}

export interface ProviderOptions {
  /** The consuming program's directory, which relative paths in the inputs resolve against. */
  projectDir: string;
  /** Reads the live release from the cluster the consuming stack names (unit tests pass a fake cluster). */
  releaseReader: (cluster: ClusterAccess) => ReleaseReader;
}

export class ApiStackProvider implements provider.Provider {
  readonly version = VERSION;
  readonly schema = JSON.stringify(packageSchema());

  // The engine starts a plugin in the directory of the program that uses it.
  constructor(
    private readonly options: ProviderOptions = { projectDir: process.cwd(), releaseReader: clusterReleaseReader },
  ) {}

  async construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<provider.ConstructResult> {
    if (type !== TOKEN) {
      throw new Error(`unknown resource type ${type}: this package has ${TOKEN} only`);
    }
    const resolved = Object.fromEntries(
      await Promise.all(Object.entries(inputs).map(async ([key, value]) => [key, await resolveInput(value)] as const)),
    );
    const result = componentConfig(resolved, {
      values: pulumi.runtime.allConfig(),
      project: pulumi.getProject(),
      stack: pulumi.getStack(),
      projectDir: this.options.projectDir,
    });
    if (!result.ok) {
      throw new ApiStackArgsError(name, result.problems);
    }
    const unsigned = signatureProblems(result.config, name, cosignVerifier);
    if (unsigned.length > 0) {
      throw new ApiStackArgsError(name, unsigned);
    }
    const { args, cluster } = result.config;
    const stack = new ApiStack(name, { ...args, readRelease: this.options.releaseReader(cluster) }, options);
    const { namespace, image, serviceName, url, migrationJob, release } = stack;
    return {
      urn: stack.urn,
      state: { namespace, image, serviceName, url, release, ...(migrationJob ? { migrationJob } : {}) },
    };
  }
}

if (require.main === module) {
  void provider.main(new ApiStackProvider(), process.argv.slice(2));
}
