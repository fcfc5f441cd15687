// What an image reference may be, in one place: the program's config, the Image component, the
// signature check and the GitHub project's build settings all use these definitions.

/** `repository@sha256:<64 hex digits>`: the only form that names exactly what was built and signed. */
export const DIGEST_REF_PATTERN = /^([^\s@]+)@sha256:([a-f0-9]{64})$/;

/**
 * A repository to push to, without tag or digest: a registry host (with a dot or a port, or
 * `localhost`, which is how Docker tells a host from a path), then one or more path components.
 * The host is required because the registry login and the push both need it; a bare `team/api`
 * would silently mean Docker Hub.
 */
export const IMAGE_REPOSITORY = imageRepository("+");
/**
 * A registry as a pull credential names it: a registry host as IMAGE_REPOSITORY has it, and
 * optionally the path the credential is for (the kubelet matches it as a prefix of the image's).
 */
export const REGISTRY = imageRepository("*");

function imageRepository(paths: "+" | "*"): RegExp {
  const label = "[a-z0-9]+(?:-[a-z0-9]+)*";
  const port = ":\\d{1,5}";
  // Lowercase alphanumerics, joined by '.', '_', '__' or a run of '-'.
  const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  // localhost or a dotted name, either with an optional port; or a dotless name with a port.
  const host = `(?:(?:localhost|${label}(?:\\.${label})+)(?:${port})?|${label}${port})`;
  return new RegExp(`^(?=.{1,255}$)${host}(?:\\/${pathComponent})${paths}$`);
}

/** The registry host (with its port) of a repository that IMAGE_REPOSITORY accepts. */
export const registryOf = (repository: string): string => repository.split("/")[0];

/**
 * Where an image reference pulls from, as the container runtime reads it: the first path
 * component is the registry host when it has a dot or a port or is localhost, and Docker Hub
 * otherwise (whose one-component names live under library/).
 */
export function imageLocation(ref: string): { host: string; path: string } {
  const name = ref.replace(/@sha256:[a-f0-9]{64}$/, "").replace(/:[^/:]+$/, "");
  const [first, ...rest] = name.split("/");
  if (rest.length > 0 && (/[.:]/.test(first) || first === "localhost")) {
    return { host: first, path: rest.join("/") };
  }
  return { host: "docker.io", path: rest.length > 0 ? name : `library/${name}` };
}

/** Whether a pull credential for `registry` (REGISTRY: a host, optionally a path prefix) applies to the image `ref`. */
export function registryServes(registry: string, ref: string): boolean {
  const [host, ...prefix] = registry.split("/");
  const image = imageLocation(ref);
  const path = prefix.join("/");
  return host === image.host && (path === "" || image.path === path || image.path.startsWith(`${path}/`));
}

export interface DigestRef {
  repository: string;
  /** The 64 hex digits after `sha256:`. */
  digest: string;
}

export function parseDigestRef(ref: string): DigestRef {
  const match = DIGEST_REF_PATTERN.exec(ref);
  if (!match) {
    throw new Error(`"${ref}" is not a digest-pinned image reference; expected repository@sha256:<64 hex digits>`);
  }
  return { repository: match[1], digest: match[2] };
}
