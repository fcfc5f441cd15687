// Runs the GitHub project (github/index.ts) or the GithubRepository component alone under
// Pulumi's mocks: no engine, no GitHub API. Records every resource with its inputs as the
// provider would receive them (secrets still wrapped), its parent and its provider.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

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

// How the SDK marks a secret value on the wire to a provider (and so to the mocks).
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export const isSecret = (value: unknown) =>
  value !== null && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
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
    Object.entries(config).map(([key, value]) => [`${GITHUB_PROJECT}:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
  );
  pulumi.runtime.setAllConfig(values, secret.map((key) => `${GITHUB_PROJECT}:${key}`));

  const keyOf = (r: pulumi.Resource | undefined) => r && (r as unknown as { __key: string }).__key;
  const capture: pulumi.ResourceTransformation = (args) => {
    const key = `${args.type}::${args.name}`;
    (args.resource as unknown as { __key: string }).__key = key;
    options.set(key, { parent: keyOf(args.opts.parent), provider: keyOf(args.opts.provider as pulumi.Resource | undefined)?.split("::")[1] });
    return undefined;
  };
  let outputs: Record<string, any> | undefined;
  let error: Error | undefined;
  try {
    const exported = await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation(capture);
      return program();
    });
    outputs = (await resolve(exported)) as Record<string, any>;
  } catch (e) {
    error = e as Error;
  }
  // Registrations run asynchronously; wait until no new resource appears.
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { resources, outputs, error };
}

/** The GitHub project's program, loaded fresh (it reads config when it runs). */
export function githubProgram(): Promise<Record<string, unknown>> {
  const main = require.resolve(path.join(GITHUB_PROJECT_DIR, "index.ts"));
  delete require.cache[main];
  return (require(main) as () => Promise<Record<string, unknown>>)();
}

async function resolve(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return resolve(await new Promise((r) => (value as pulumi.Output<unknown>).apply(r)));
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map(resolve));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)])));
  }
  return value;
}
