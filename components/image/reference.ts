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
export const IMAGE_REPOSITORY = imageRepository();

function imageRepository(): RegExp {
  const label = "[a-z0-9]+(?:-[a-z0-9]+)*";
  const port = ":\\d{1,5}";
  // Lowercase alphanumerics, joined by '.', '_', '__' or a run of '-'.
  const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  // localhost or a dotted name, either with an optional port; or a dotless name with a port.
  const host = `(?:(?:localhost|${label}(?:\\.${label})+)(?:${port})?|${label}${port})`;
  return new RegExp(`^(?=.{1,255}$)${host}(?:\\/${pathComponent})+$`);
}

/** The registry host (with its port) of a repository that IMAGE_REPOSITORY accepts. */
export const registryOf = (repository: string): string => repository.split("/")[0];

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
