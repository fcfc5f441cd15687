// Runs the real program (index.ts) under Pulumi's mocks: no engine, no cluster, no Docker. The
// mocks echo inputs back as outputs, which is enough to assert what would be sent to the
// Kubernetes API; a fake cluster answers the program's reads of the live release. Real-engine
// tests live in tests/e2e.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import type { ReleaseAwaiter, ReleaseReader, ReleaseTarget } from "../../components/api/cluster-reader";
import type { LiveRelease } from "../../components/api/release-state";
import type { ExpectedRelease, ReleaseOutcome, WaitOptions } from "../../components/api/release-wait";
import { isSecretValue, runInMockedStack } from "./mocks";
import { loadProgram, PROJECT, PROJECT_DIR } from "../../tools/program";

export { isSecretValue, resolve } from "./mocks";
export { PROJECT, PROJECT_DIR } from "../../tools/program";

/**
 * Stand-ins for `secure:` values, which unit tests cannot decrypt. Each is valid for its key in
 * prod: random keys and tokens (`openssl rand -hex 32`), connections over verified TLS.
 */
export const TEST_SECRETS: Record<string, string> = {
  secretKey: "8d3e0b6f4a1c97e25d08b3f6a94c17e2b5d0f8a36c19e47b2d5f08a3c6e91b47",
  apiTokens: "c41f7a09e2d86b35f1a0c7e49b2d58f3a6e1c09d7b4f2a85e3c6d1f09a7b4e2c",
  databaseUrl: "postgresql://app:unit-test-db-password@db.internal:5432/app?sslmode=verify-full",
  redisUrl: "rediss://:unit-test-redis-password@redis.internal:6380/0?ssl_cert_reqs=required",
  sentryDsn: "https://unit-test-public-key@sentry.example.com/42",
  devPostgresPassword: "unit-test-postgres-password",
  registryPassword: "unit-test-registry-password",
};

export interface StackInput {
  values: Record<string, string>;
  secretKeys: string[];
}

/**
 * Reads Pulumi.<stack>.yaml the way the CLI hands it to a program: the project's declared
 * defaults first (the CLI fills them in), then the stack's values; strings, JSON for structures.
 */
export function readStackFile(stack: string): StackInput {
  const read = (file: string) =>
    load(fs.readFileSync(path.join(PROJECT_DIR, file), "utf8")) as { config?: Record<string, any> };
  const input: StackInput = { values: {}, secretKeys: [] };
  for (const [key, declaration] of Object.entries(read("Pulumi.yaml").config ?? {})) {
    if ("default" in declaration) {
      const value = declaration.default;
      input.values[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  for (const [key, value] of Object.entries(read(`Pulumi.${stack}.yaml`).config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      const short = key.split(":")[1];
      const stand_in = TEST_SECRETS[short];
      if (stand_in === undefined) {
        throw new Error(`no test stand-in for secure key ${key}`);
      }
      input.values[key] = stand_in;
      input.secretKeys.push(key);
    } else {
      input.values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return input;
}

/** Adds, replaces or (with undefined) removes keys by short name; `secret` lists those stored encrypted. */
export function withConfig(
  base: StackInput,
  overrides: Record<string, string | number | boolean | object | undefined>,
  secret: string[] = [],
): StackInput {
  const values = { ...base.values };
  const secretKeys = new Set(base.secretKeys);
  for (const [key, value] of Object.entries(overrides)) {
    const full = `${PROJECT}:${key}`;
    if (value === undefined) {
      delete values[full];
      secretKeys.delete(full);
    } else {
      values[full] = typeof value === "string" ? value : JSON.stringify(value);
      if (secret.includes(key)) {
        secretKeys.add(full);
      } else {
        secretKeys.delete(full);
      }
    }
  }
  return { values, secretKeys: [...secretKeys] };
}

/**
 * Stands in for the image the deploy workflow built once and signed, which the release workflow
 * sets as prod's imageRef. Prod verifies its signature: tests that run the program with prod's
 * config stand in for cosign too (tests/unit/cosign.ts, withCosign).
 */
export const PROD_IMAGE = `registry.example.com/platform/api@sha256:${"0123456789abcdef".repeat(4)}`;

/**
 * The prod stack file plus what each release adds: the secrets an operator sets with
 * `pulumi config set --secret`, and the image the release workflow sets.
 */
export function prodInput(): StackInput {
  return withConfig(
    readStackFile("prod"),
    {
      secretKey: TEST_SECRETS.secretKey,
      apiTokens: TEST_SECRETS.apiTokens,
      databaseUrl: TEST_SECRETS.databaseUrl,
      redisUrl: TEST_SECRETS.redisUrl,
      imageRef: PROD_IMAGE,
    },
    ["secretKey", "apiTokens", "databaseUrl", "redisUrl"],
  );
}

/** Where the dev stack pushes its image in these tests: the key the README says to set for a cluster of one's own. */
export const DEV_IMAGE_REPOSITORY = "registry.example.com/team/api";

/** The dev stack file plus the one key its user sets, the registry of their cluster (README: "Your own cluster"). */
export function devInput(): StackInput {
  return withConfig(readStackFile("dev"), { imageRepository: DEV_IMAGE_REPOSITORY });
}

export interface Registered {
  type: string;
  name: string;
  /** Inputs as the provider receives them; secret values stay wrapped (see isSecretValue). */
  inputs: any;
  /** `type::name` of this resource, and of its parent and explicit dependencies. */
  key: string;
  parent?: string;
  dependsOn: string[];
  ignoreChanges: string[];
  /** Aliases as the resource declared them (URNs or Alias objects). */
  aliases: pulumi.Input<pulumi.URN | pulumi.Alias>[];
}

export interface RunResult {
  resources: Registered[];
  /** What the program asked the fake cluster for, one entry per API. */
  reads: ReleaseTarget[];
  outputs: Record<string, unknown>;
  /** The resource of a given type; fails the test when there is not exactly one. */
  one(type: string, name?: string): Registered;
  all(type: string): Registered[];
}

const fakeDigest = (seed: string) => createHash("sha256").update(seed).digest("hex");

export interface RunOptions {
  stack?: string;
  /** Defaults to index.ts; it is handed the fake cluster's release reader. */
  program?: (readRelease: ReleaseReader) => Promise<Record<string, unknown>>;
  /**
   * What the fake cluster runs, by "<namespace>/<name>" of an API's Deployment or Rollout.
   * Any API not listed has none yet (`absent`: its first release).
   */
  cluster?: Record<string, LiveRelease>;
}

/** The reader unit tests run the program with: answers from `cluster`, never from a real API server. */
function fakeCluster(cluster: RunOptions["cluster"], reads: ReleaseTarget[] = []): ReleaseReader {
  return (target) => {
    reads.push(target);
    return Promise.resolve(cluster?.[`${target.namespace}/${target.name}`] ?? { kind: "absent" });
  };
}

/**
 * Runs index.ts with the given config under mocks and returns every resource it registered,
 * with inputs fully resolved, plus the stack outputs.
 */
export async function runProgram(input: StackInput, options: RunOptions = {}): Promise<RunResult> {
  const { resources, outputs, error, reads } = await execute(input, options);
  if (error) {
    throw error;
  }
  const all = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    reads,
    outputs: outputs!,
    all,
    one(type, name) {
      const matches = all(type).filter((r) => name === undefined || r.name === name);
      if (matches.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}`);
      }
      return matches[0];
    },
  };
}

/**
 * Runs the program against a fake cluster that also answers the wait for a release with
 * `outcome`, and collects what reaches the runtime unhandled: a failed release, or a worker whose
 * image cannot be chosen, fails the update that way (the runtime reports the error's message and
 * exits non-zero).
 */
export async function runAndWait(
  input: StackInput,
  cluster: Record<string, LiveRelease>,
  outcome: ReleaseOutcome,
  stack = "prod",
) {
  const waits: Array<{ target: ReleaseTarget; expected: ExpectedRelease; options: WaitOptions }> = [];
  const awaitRelease: ReleaseAwaiter = (target, expected, options) => {
    waits.push({ target, expected, options });
    return Promise.resolve(outcome);
  };
  const failures: Error[] = [];
  const listeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", (reason) => failures.push(reason as Error));
  try {
    const run = await runProgram(input, {
      stack,
      cluster,
      program: (readRelease) => loadProgram(Object.assign(readRelease, { awaitRelease })),
    });
    // A rejection is reported once the promise machinery has run its course.
    for (let turn = 0; turn < 10 && failures.length === 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { run, waits, failures };
  } finally {
    process.removeAllListeners("unhandledRejection");
    listeners.forEach((listener) => process.on("unhandledRejection", listener));
  }
}

/** Runs the program and returns what it registered even when it fails. */
export async function execute(
  input: StackInput,
  { stack = "unit", program = loadProgram, cluster }: RunOptions = {},
): Promise<{ resources: Registered[]; outputs?: Record<string, unknown>; error?: Error; reads: ReleaseTarget[] }> {
  const resources: Registered[] = [];
  const reads: ReleaseTarget[] = [];
  const options = new Map<
    string,
    {
      parent?: string;
      dependsOn: string[];
      ignoreChanges: string[];
      aliases: pulumi.Input<pulumi.URN | pulumi.Alias>[];
    }
  >();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = { ...args.inputs };
        if (args.type === "docker:index/image:Image") {
          const repository = String(args.inputs.imageName).replace(/:[^/:]+$/, "");
          state.repoDigest = `${repository}@sha256:${fakeDigest(args.name)}`;
        }
        const key = `${args.type}::${args.name}`;
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          key,
          dependsOn: [],
          ignoreChanges: [],
          aliases: [],
          ...options.get(key),
        });
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    PROJECT,
    stack,
    false,
    // What the CLI reports for a self-managed (file or cloud-storage) backend.
    "organization",
  );
  pulumi.runtime.setAllConfig(input.values, input.secretKeys);
  // Resource options never reach the mocks; a stack transformation sees them on the way.
  const keyOf = (r: pulumi.Resource) => (r as unknown as { __key: string }).__key;
  const capture: pulumi.ResourceTransformation = (args) => {
    const key = `${args.type}::${args.name}`;
    (args.resource as unknown as { __key: string }).__key = key;
    const dependsOn = ([] as pulumi.Resource[]).concat((args.opts.dependsOn as pulumi.Resource[] | undefined) ?? []);
    options.set(key, {
      parent: args.opts.parent && keyOf(args.opts.parent),
      dependsOn: dependsOn.map(keyOf),
      ignoreChanges: args.opts.ignoreChanges ?? [],
      aliases: args.opts.aliases ?? [],
    });
    return undefined;
  };
  const { outputs, error } = await runInMockedStack(
    () => program(fakeCluster(cluster, reads)),
    capture,
    () => resources.length,
  );
  return { resources, outputs, error, reads };
}

/** The object as the Kubernetes API would receive it: secrets unwrapped, nothing else changed. */
export function asManifest(resource: Registered): Record<string, any> {
  const unwrap = (value: unknown): unknown => {
    if (isSecretValue(value)) {
      return unwrap((value as { value: unknown }).value);
    }
    if (Array.isArray(value)) {
      return value.map(unwrap);
    }
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
    }
    return value;
  };
  return unwrap(resource.inputs) as Record<string, any>;
}

export const isKubernetes = (r: Registered) => r.type.startsWith("kubernetes:");
