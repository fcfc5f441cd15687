// Runs the GitHub project (github/index.ts) or the GithubRepository component alone under
// Pulumi's mocks: no engine, no GitHub API. Records every resource with its inputs as the
// provider would receive them (secrets still wrapped), its parent and its provider.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { isSecretValue, runInMockedStack } from "../support/mocks";

export const GITHUB_PROJECT = "api-stack-github";
export const GITHUB_PROJECT_DIR = path.resolve(__dirname, "../../github");

export interface MockedResource {
  type: string;
  name: string;
  inputs: any;
  /** `type::name`. */
  key: string;
  parent?: string;
  /** Name of the provider resource it was given, if any (resource options never reach the mocks). */
  provider?: string;
}

export interface MockedRun {
  resources: MockedResource[];
  outputs?: Record<string, any>;
  error?: Error;
}

export const isSecret = isSecretValue;
export const reveal = (value: unknown) => (isSecret(value) ? (value as { value: unknown }).value : value);

/** Every plain (not secret) string anywhere in some inputs. */
export function plainStrings(value: unknown): string[] {
  if (isSecret(value)) {
    return [];
  }
  if (typeof value === "string") {
    return [value];
  }
  if (value !== null && typeof value === "object") {
    return Object.values(value).flatMap(plainStrings);
  }
  return [];
}

/**
 * Runs `program` as stack `stack` of the GitHub project with the given config (short keys;
 * objects as JSON; `secret` names the keys stored encrypted).
 */
export async function runMocked(
  program: () => Promise<Record<string, unknown>> | Record<string, unknown>,
  config: Record<string, unknown> = {},
  secret: string[] = [],
): Promise<MockedRun> {
  const resources: MockedResource[] = [];
  const options = new Map<string, { parent?: string; provider?: string }>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}::${args.name}`;
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, key, ...options.get(key) });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    GITHUB_PROJECT,
    "unit",
    false,
  );
  const values = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      `${GITHUB_PROJECT}:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  pulumi.runtime.setAllConfig(
    values,
    secret.map((key) => `${GITHUB_PROJECT}:${key}`),
  );

  const keyOf = (r: pulumi.Resource | undefined) => r && (r as unknown as { __key: string }).__key;
  const capture: pulumi.ResourceTransformation = (args) => {
    const key = `${args.type}::${args.name}`;
    (args.resource as unknown as { __key: string }).__key = key;
    options.set(key, {
      parent: keyOf(args.opts.parent),
      provider: keyOf(args.opts.provider)?.split("::")[1],
    });
    return undefined;
  };
  const { outputs, error } = await runInMockedStack(program, capture, () => resources.length);
  return { resources, outputs, error };
}

/** The GitHub project's program, loaded fresh (it reads config when it runs). */
export function githubProgram(): Promise<Record<string, unknown>> {
  const main = require.resolve(path.join(GITHUB_PROJECT_DIR, "index.ts"));
  delete require.cache[main];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- index.ts anew, after the cache was cleared
  return (require(main) as () => Promise<Record<string, unknown>>)();
}
