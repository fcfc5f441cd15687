// Builds an app image with the real dockerd and pushes it, returning its digest-pinned
// reference. Used where the Pulumi docker provider is not available (scripts/local.ts, e2e).
import { execFileSync } from "node:child_process";

export function docker(...args: string[]): string {
  return execFileSync("docker", args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, DOCKER_BUILDKIT: "1" },
  }).trim();
}

/** Pushes a tag and returns `repository@sha256:...` as the registry stored it. */
export function push(tag: string): string {
  const repository = tag.replace(/:[^/:]+$/, "");
  docker("push", "--quiet", tag);
  const refs = docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", tag).split("\n");
  const ref = refs.find((r) => r.startsWith(`${repository}@sha256:`));
  if (!ref) {
    throw new Error(`${tag} was pushed but has no digest for ${repository}: ${refs.join(", ")}`);
  }
  return ref;
}

export interface BuildInput {
  context: string;
  tag: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

/**
 * `docker build` of a multi-stage Dockerfile. The machine's CA bundle, when set, reaches the
 * build as the `ca` secret only (downloads behind a TLS-inspecting proxy), never the image.
 */
export function buildAndPush(input: BuildInput): string {
  const args = ["build", "--quiet", "--target", input.target ?? "runtime", "--tag", input.tag];
  for (const [name, value] of Object.entries(input.buildArgs ?? {})) {
    args.push("--build-arg", `${name}=${value}`);
  }
  if (process.env.SSL_CERT_FILE) {
    args.push("--secret", `id=ca,src=${process.env.SSL_CERT_FILE}`);
  }
  docker(...args, input.context);
  return push(input.tag);
}
