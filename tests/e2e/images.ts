// Release images for the end-to-end scenarios: the dev stack's app built with the real dockerd from
// its multi-stage Dockerfile and pushed to the loopback registry, plus follow-up releases that
// differ only by a label (distinct digests, same content) for blue-green and canary to move between.
import { buildDevImage } from "../../scripts/automation";
import { docker, push } from "../../scripts/images";
import { progress } from "./env";

const REPOSITORY = "127.0.0.1:5000/api-stack/e2e";

/** Builds and pushes `count` releases; returns their digest-pinned references, oldest first. */
export function buildReleases(count: number): string[] {
  progress("building the dev stack's image");
  const first = `${REPOSITORY}:r1`;
  const refs = [buildDevImage(first)];
  for (let release = 2; release <= count; release++) {
    const tag = `${REPOSITORY}:r${release}`;
    const container = docker("create", first);
    try {
      docker("commit", "--change", `LABEL io.api-stack.e2e-release=${release}-${Date.now()}`, container, tag);
    } finally {
      docker("rm", container);
    }
    refs.push(push(tag));
  }
  progress(`pushed ${refs.length} releases: ${refs.map((r) => r.slice(-12)).join(", ")}`);
  return refs;
}
