// Argo Rollouts' install manifest (argoRolloutsManifest) runs a controller with rights over the
// whole cluster, so the stack installs only a manifest that cannot change under it: a file of
// the project, a release's URL, or any URL with the digest of its content, which is fetched and
// verified before any resource is registered and installed from the verified copy.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const MANIFEST_FORMS =
  "a local path (a .yaml file of the project), an https URL whose path names a release version " +
  "(…/releases/download/v1.7.2/install.yaml), or an https URL ending in #sha256=<64 hex digits> of its content";

/** A path segment that names a release (v1.7.2, 1.7.2, v1.8.0-rc1), never a branch such as master. */
const RELEASE_SEGMENT = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/;
const PINNED_DIGEST = /^sha256=([a-f0-9]{64})$/;

export type ManifestForm =
  { kind: "path"; file: string } | { kind: "release"; url: string } | { kind: "digest"; url: string; sha256: string };

/** Which accepted form `text` is, or undefined when it is none of them. */
export function manifestForm(text: string): ManifestForm | undefined {
  if (/^[^\s:]+\.ya?ml$/.test(text)) {
    return { kind: "path", file: text };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.hostname === "" || url.username !== "" || url.password !== "") {
    return undefined;
  }
  const digest = PINNED_DIGEST.exec(url.hash.slice(1));
  if (digest) {
    url.hash = "";
    return { kind: "digest", url: url.href, sha256: digest[1] };
  }
  return url.hash === "" && url.search === "" && url.pathname.split("/").some((part) => RELEASE_SEGMENT.test(part))
    ? { kind: "release", url: url.href }
    : undefined;
}

/**
 * Where the verified copy of a manifest pinned by digest is kept: named by the digest, in the
 * user's own cache (API_STACK_CACHE, default ~/.cache/api-stack), not a directory others can
 * write to.
 */
export function verifiedManifestFile(sha256: string): string {
  const cache = process.env.API_STACK_CACHE ?? path.join(os.homedir(), ".cache", "api-stack");
  return path.join(cache, "manifests", `argo-rollouts-${sha256}.yaml`);
}

/** Fetches a URL's content (the program's is `fetch`; tests pass a stand-in). */
export type ManifestFetcher = (url: string) => Promise<Buffer>;

export const httpsFetcher: ManifestFetcher = async (url) => {
  const response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(60_000) });
  if (!response.ok) {
    throw new Error(`GET answered ${response.status} ${response.statusText}`);
  }
  return Buffer.from(await response.arrayBuffer());
};

const sha256Of = (content: Buffer) => createHash("sha256").update(content).digest("hex");

/**
 * Puts the manifest's verified copy in place (kept from an earlier run when its content still
 * matches), or says why not: the fetch failed, or the content is not the one the digest names.
 */
export async function verifyPinnedManifest(
  pinned: { url: string; sha256: string; file: string },
  fetcher: ManifestFetcher,
): Promise<string | undefined> {
  const kept = fs.existsSync(pinned.file) ? fs.readFileSync(pinned.file) : undefined;
  if (kept && sha256Of(kept) === pinned.sha256) {
    return undefined;
  }
  let content: Buffer;
  try {
    content = await fetcher(pinned.url);
  } catch (error) {
    return `${pinned.url} could not be fetched: ${(error as Error).message}`;
  }
  const actual = sha256Of(content);
  if (actual !== pinned.sha256) {
    return (
      `${pinned.url} has sha256 ${actual}, not the pinned ${pinned.sha256}; ` +
      "the manifest changed, or is not the one meant"
    );
  }
  fs.mkdirSync(path.dirname(pinned.file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(pinned.file, content, { mode: 0o600 });
  return undefined;
}
