// Release images for the end-to-end tests and the release benchmark: the dev stack's app built
// with the real dockerd from its multi-stage Dockerfile and pushed to the loopback registry,
// follow-up releases that differ only by a label (distinct digests, same behaviour), and broken
// releases made from it by changing one file: one that is never ready, one whose requests fail,
// one that is healthy but cannot read a note back, one that fails its users once promoted, one
// whose migration fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildDevImage, signImage } from "../../tools/automation";
import { docker, push } from "../../tools/images";
import { progress } from "./progress";

const REPOSITORY = "127.0.0.1:5000/api-stack/e2e";
let built: string | undefined;

/** The dev stack's image, built once per test run. */
export function baseRelease(): string {
  if (!built) {
    progress("building the dev stack's image");
    built = buildDevImage(`${REPOSITORY}:base`);
  }
  return built;
}

/** Builds (once) and pushes `count` releases; returns their digest-pinned references, oldest first. */
export function buildReleases(count: number): string[] {
  const refs = [baseRelease()];
  for (let release = 2; release <= count; release++) {
    refs.push(variant(`r${release}`, {}));
  }
  progress(`releases: ${refs.map((r) => r.slice(-12)).join(", ")}`);
  return refs;
}

/** Signs releases with the local key, for prod-shaped stacks (prod deploys signed images only). */
export function signed(refs: string[]): string[] {
  refs.forEach((ref) => signImage(ref));
  return refs;
}

/** Lines inserted into the app's create_app() just before its Prometheus middleware is added,
 * so what they answer is still counted in http_requests_total (the release analysis reads it). */
const MIDDLEWARE_ANCHOR = "    app.add_middleware(PrometheusMiddleware)\n";
const answerWith = (status: number, paths: string) =>
  `    @app.middleware("http")\n` +
  `    async def _broken_release(request, call_next):  # e2e fixture\n` +
  `        from fastapi.responses import PlainTextResponse\n` +
  `        if ${paths}:\n` +
  `            return PlainTextResponse("broken release", status_code=${status})\n` +
  `        return await call_next(request)\n\n`;

/** A release whose pods never become ready: /health/ready answers 503. */
export const neverReady = () =>
  variant("never-ready", {
    "/app/app/main.py": insertBefore(MIDDLEWARE_ANCHOR, answerWith(503, 'request.url.path == "/health/ready"')),
  });

/** A release that serves, but answers 500 to every request outside /health. */
export const failingRequests = () =>
  variant("failing-requests", {
    "/app/app/main.py": insertBefore(MIDDLEWARE_ANCHOR, answerWith(500, 'not request.url.path.startswith("/health")')),
  });

/**
 * A release whose health, readiness and API documents answer 2xx, but that cannot read a note
 * back (GET /notes/{id} answers 500): only a test of the user flow tells it from a good one.
 */
export const failingUserFlow = () =>
  variant("failing-user-flow", {
    "/app/app/main.py": insertBefore(
      MIDDLEWARE_ANCHOR,
      answerWith(500, 'request.method == "GET" and request.url.path.startswith("/notes/")'),
    ),
  });

/**
 * A release that passes its smoke test, which reaches the preview Service directly, and answers
 * 500 to every request that came through the ingress controller (which sets X-Forwarded-For):
 * once promoted, it fails every user.
 */
export const failingBehindIngress = () =>
  variant("failing-behind-ingress", {
    "/app/app/main.py": insertBefore(
      MIDDLEWARE_ANCHOR,
      answerWith(500, '"x-forwarded-for" in request.headers and not request.url.path.startswith("/health")'),
    ),
  });

/** A release whose migration fails before changing anything. */
export const failingMigration = () =>
  variant("failing-migration", {
    "/app/migrations/env.py": (text) => `raise SystemExit("e2e fixture: this release's migration fails")\n${text}`,
  });

function insertBefore(anchor: string, lines: string): (text: string) => string {
  return (text) => {
    if (!text.includes(anchor)) {
      throw new Error(`the app no longer has the line the e2e fixture edits: ${JSON.stringify(anchor)}`);
    }
    return text.replace(anchor, lines + anchor);
  };
}

const variants = new Map<string, string>();

/** The base release with some files rewritten (or only a label changed), committed and pushed. */
function variant(name: string, edits: Record<string, (text: string) => string>): string {
  const cached = variants.get(name);
  if (cached) {
    return cached;
  }
  const tag = `${REPOSITORY}:${name}`;
  const container = docker("create", baseRelease());
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-variant-"));
  try {
    for (const [file, edit] of Object.entries(edits)) {
      const local = path.join(work, path.basename(file));
      docker("cp", `${container}:${file}`, local);
      fs.writeFileSync(local, edit(fs.readFileSync(local, "utf8")));
      fs.chmodSync(local, 0o644);
      docker("cp", local, `${container}:${file}`);
    }
    // The label makes every variant its own digest, even one without edits.
    docker("commit", "--change", `LABEL io.api-stack.e2e-release=${name}-${Date.now()}`, container, tag);
  } finally {
    docker("rm", container);
    fs.rmSync(work, { recursive: true, force: true });
  }
  const ref = push(tag);
  variants.set(name, ref);
  return ref;
}
