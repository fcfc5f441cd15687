// The login the kubelet pulls a private registry's images with, as a kubernetes.io/dockerconfigjson
// Secret holds it: the format of Docker's config.json, one entry per registry.
import type { SecretValue } from "../secret";

export interface RegistryLogin {
  /** The registry as the kubelet matches it against an image: a host, optionally a path prefix. */
  registry: string;
  username: string;
  password: SecretValue;
}

export const PULL_SECRET_TYPE = "kubernetes.io/dockerconfigjson";
export const PULL_SECRET_KEY = ".dockerconfigjson";

/** The Secret's one key, in plain text: the component hands it to the Secret as a Pulumi secret. */
export function dockerConfigJson(login: RegistryLogin): string {
  const password = login.password.reveal();
  // `auth` (user:password in base64) is the field every reader of the format knows.
  const auth = Buffer.from(`${login.username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [login.registry]: { username: login.username, password, auth } } });
}
