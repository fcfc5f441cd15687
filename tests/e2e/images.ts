// Release images for the end-to-end scenarios: the FastAPI app built with the real dockerd from
// its multi-stage Dockerfile, pushed to the loopback registry, and two follow-up releases that
// differ only by a label (distinct digests, same content) so blue-green and canary have
// something to move between.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { PROJECT_DIR, progress } from "./env";

export const REGISTRY = "127.0.0.1:5000";
export const BASE_IMAGE = process.env.API_STACK_BASE_IMAGE ?? "api-stack/python-base:bookworm";
const REPOSITORY = `${REGISTRY}/api-stack/e2e`;

function docker(...args: string[]): string {
  return execFileSync("docker", args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DOCKER_BUILDKIT: "1" },
  }).trim();
}

function pushedDigestRef(tag: string): string {
  docker("push", "--quiet", tag);
  const refs = docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", tag).split("\n");
  const ref = refs.find((r) => r.startsWith(`${REPOSITORY}@sha256:`));
  if (!ref) {
    throw new Error(`${tag} was pushed but has no digest for ${REPOSITORY}: ${refs.join(", ")}`);
  }
  return ref;
}

/** Builds and pushes `count` releases; returns their digest-pinned references, oldest first. */
export function buildReleases(count: number): string[] {
  progress(`building apps/fastapi on ${BASE_IMAGE}`);
  const first = `${REPOSITORY}:r1`;
  const caArgs = process.env.SSL_CERT_FILE ? ["--secret", `id=ca,src=${process.env.SSL_CERT_FILE}`] : [];
  docker(
    "build",
    "--target",
    "runtime",
    "--build-arg",
    `BASE_IMAGE=${BASE_IMAGE}`,
    ...caArgs,
    "--tag",
    first,
    path.join(PROJECT_DIR, "apps/fastapi"),
  );
  const refs = [pushedDigestRef(first)];
  for (let release = 2; release <= count; release++) {
    const tag = `${REPOSITORY}:r${release}`;
    const container = docker("create", first);
    try {
      docker("commit", "--change", `LABEL io.api-stack.e2e-release=${release}`, container, tag);
    } finally {
      docker("rm", container);
    }
    refs.push(pushedDigestRef(tag));
  }
  progress(`pushed ${refs.length} releases: ${refs.map((r) => r.slice(-12)).join(", ")}`);
  return refs;
}
