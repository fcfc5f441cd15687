// no-secrets-in-configmap and no-secrets-in-pods: credentials live in Secrets, never in a
// ConfigMap (which every reader of the namespace's settings can read) nor written into a pod's
// spec (which every reader of the workload, its ReplicaSets and its pods can read).
import { groupKind } from "../kube";
import { containerLabel, containersOf, inPod, podViews } from "../pods";
import { at, keys, objects, text, texts, type Props } from "../read";
import { key } from "./rule";

/** Settings the program reads from secret config keys, by environment variable name. */
const SECRET_SETTING_KEYS: Record<string, string> = {
  SECRET_KEY: "secretKey",
  DATABASE_URL: "databaseUrl",
  REDIS_URL: "redisUrl",
  SENTRY_DSN: "sentryDsn",
};

const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "SECRET", "SECRETS", "CREDENTIAL", "CREDENTIALS", "DSN"]);
// Nouns that name a secret only as the last word: GITHUB_TOKEN and API_KEY hold one;
// ACCESS_TOKEN_EXPIRE_MINUTES and CACHE_KEY_PREFIX only talk about one.
const SECRET_LAST_WORDS = new Set(["TOKEN", "TOKENS", "APIKEY"]);

/** Whether a setting's name says it holds a secret. */
export function looksSecret(name: string): boolean {
  const words = name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  if (words.some((word) => SECRET_WORDS.has(word))) {
    return true;
  }
  const last = words.at(-1) ?? "";
  // *_KEY, but not a setting called just KEY.
  if (SECRET_LAST_WORDS.has(last) || (last === "KEY" && words.length > 1)) {
    return true;
  }
  return words.slice(-2).join("_") === "DATABASE_URL";
}

/**
 * A URL with a password in it (scheme://user:password@host), the way credentials hide in
 * settings, anywhere in a value: a whole setting, a line of an env file, a connection string in
 * a command line. The password is captured, so a reference to another variable can pass.
 */
const URL_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:([^/@\s]+)@/gi;

/**
 * A value that only refers to another variable, which Kubernetes (`$(NAME)`) or the shell that
 * reads an env file (`${NAME}`, `$NAME`) expands: the secret is wherever that variable comes from.
 */
const REFERENCE = /^\$(\(\w+\)|\{\w+\}|\w+)$/;

/** Whether a value holds a URL with a literal password, among any number of URLs. */
const hasPasswordUrl = (value: string): boolean =>
  [...value.matchAll(URL_WITH_PASSWORD)].some(([, password]) => !REFERENCE.test(password));

/**
 * Whether the value of a secret-named setting holds a secret: anything but nothing, a reference,
 * or a URL that carries no credentials (none, or a password that is a reference). A URL's user
 * alone is one: a DSN's key.
 */
function holdsSecret(value: string): boolean {
  if (value === "" || REFERENCE.test(value)) {
    return false;
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:([^/@\s]*)@)?/i.exec(value);
  if (!url) {
    return true;
  }
  const [user, password] = url[1]?.split(":") ?? [];
  return user !== undefined && (password === undefined || !REFERENCE.test(password));
}

/** Where a setting's value belongs, named by the secret config key that feeds the program's own. */
function fixFor(name: string, reader: string): string {
  const configKey = SECRET_SETTING_KEYS[name];
  return configKey
    ? `move it to the Secret: it comes from the secret config key ${key(configKey)} (pulumi config set --secret ` +
        `${configKey})`
    : `move it to a Secret and read it through ${reader}`;
}

/** The `NAME=value` (env file, .properties) and `name: value` (YAML) lines of a file, values unquoted. */
function assignments(file: string): { name: string; value: string }[] {
  return file.split("\n").flatMap((line) => {
    const match = /^\s*(?:export\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*[=:]\s*(.*?)\s*,?\s*$/.exec(line);
    return match ? [{ name: match[1], value: match[2].replace(/^(["'])(.*)\1$/, "$2") }] : [];
  });
}

const CONFIGMAP_READER = "envFrom.secretRef or secretKeyRef";

/**
 * ConfigMap keys or values that belong in a Secret (a ConfigMapPatch's too): a key that names a
 * secret, a value that holds a URL with a password anywhere, and in a value that is a whole
 * file, a line that sets a secret-named setting to a literal value.
 */
export function noSecretsInConfigMap(type: string, props: Props): string[] {
  if (groupKind(type) !== "core/ConfigMap") {
    return [];
  }
  const violations: string[] = [];
  for (const field of ["data", "binaryData"]) {
    for (const name of keys(at(props, field))) {
      const value = field === "data" ? (text(at(props, field, name)) ?? "") : "";
      if (looksSecret(name)) {
        violations.push(`ConfigMap key ${name} looks like a secret: ${fixFor(name, CONFIGMAP_READER)}`);
        continue;
      }
      // A value is a file (app.env, settings.yaml) when its key names one or it spans lines.
      const lines = name.includes(".") || value.includes("\n") ? assignments(value) : [];
      if (hasPasswordUrl(value)) {
        // In a file, the setting that holds the URL names the secret config key that feeds it.
        const setting = lines.find((line) => hasPasswordUrl(line.value))?.name;
        violations.push(
          `ConfigMap key ${name} holds a URL with a password${setting ? ` (in ${setting})` : ""}: ` +
            fixFor(setting ?? name, CONFIGMAP_READER),
        );
        continue;
      }
      const secret = lines.find((line) => looksSecret(line.name) && holdsSecret(line.value));
      if (secret) {
        violations.push(
          `ConfigMap key ${name} sets ${secret.name}, which looks like a secret: ` +
            `${fixFor(secret.name, CONFIGMAP_READER)}`,
        );
      }
    }
  }
  return violations;
}

/**
 * Secrets written into a pod's spec: an environment variable whose literal value is a URL with a
 * password, or whose name says it holds a secret, and a URL with a password in a command or its
 * arguments. A value read from a Secret (valueFrom.secretKeyRef, envFrom) or one that only refers
 * to another variable passes.
 */
export function noSecretsInPods(type: string, props: Props): string[] {
  const reader = "valueFrom.secretKeyRef (or envFrom.secretRef)";
  return podViews(type, props).flatMap((pod) =>
    containersOf(pod).flatMap((ref) => {
      const who = containerLabel(ref);
      const env = objects(ref.container.env).flatMap((variable) => {
        const name = text(variable.name) ?? "";
        const value = text(variable.value);
        if (value === undefined) {
          return [];
        }
        if (hasPasswordUrl(value)) {
          return [`${who} sets ${name} to a URL with a password: ${fixFor(name, reader)}`];
        }
        return looksSecret(name) && holdsSecret(value)
          ? [`${who} sets ${name}, which looks like a secret, to a literal value: ${fixFor(name, reader)}`]
          : [];
      });
      const commandLine = (["command", "args"] as const)
        .filter((field) => texts(ref.container[field]).some(hasPasswordUrl))
        .map(
          (field) =>
            `${who} passes a URL with a password in its ${field}, which anyone who reads the pod sees: ` +
            `read the password from a Secret into an environment variable (${reader}) and refer to it as $(NAME)`,
        );
      return [...env, ...commandLine].map((message) => inPod(pod, message));
    }),
  );
}
