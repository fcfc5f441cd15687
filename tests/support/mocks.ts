// What every run of a program under Pulumi's mocks shares (unit tests: no engine, no cluster, no
// GitHub): running it in a mocked stack while a stack transformation records each resource's
// options (they never reach the mocks), waiting for registrations to settle, resolving outputs,
// and recognizing secret values as the SDK sends them to a provider.
import * as pulumi from "@pulumi/pulumi";

// How the SDK marks a secret value on the wire to a provider (and so to the mocks).
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): boolean {
  return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}

/** Resolves Outputs nested in plain data (stack outputs) to their values. */
export async function resolve(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return resolve(await new Promise((r) => value.apply(r)));
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map(resolve));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)])));
  }
  return value;
}

/**
 * Runs `program` in the mocked stack (set up by the caller with `setMocks`), with `capture` as a
 * stack transformation, then waits until `registered()` stops growing: registrations run
 * asynchronously. Never throws: a failing program is reported as `error`.
 */
export async function runInMockedStack(
  program: () => unknown,
  capture: pulumi.ResourceTransformation,
  registered: () => number,
): Promise<{ outputs?: Record<string, unknown>; error?: Error }> {
  let outputs: Record<string, unknown> | undefined;
  let error: Error | undefined;
  try {
    const exported = await pulumi.runtime.runInPulumiStack(() => {
      pulumi.runtime.registerStackTransformation(capture);
      return Promise.resolve(program());
    });
    outputs = (await resolve(exported)) as Record<string, unknown>;
  } catch (e) {
    error = e as Error;
  }
  let seen = -1;
  while (seen !== registered()) {
    seen = registered();
    await new Promise((r) => setTimeout(r, 20));
  }
  return { outputs, error };
}
