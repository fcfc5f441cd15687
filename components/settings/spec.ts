// Pure builder for the app's environment: which settings go to the ConfigMap, which to the
// Secret, and the checksum that rolls the pods when either changes and names both objects. The
// variable names and values are the contract with the apps (docs/apps.md): the ConfigMap's are
// environment variables, the Secret's are files in the apps' SECRETS_DIR, one per key.
import { createHash, createHmac } from "node:crypto";
import { SETTINGS_ID_LENGTH, type Naming } from "../names";
import type { SecretValue } from "../secret";

/**
 * Where every app pod mounts the Secret, read-only: the apps' default SECRETS_DIR, so no setting
 * names it (a pod without the volume still fails at start: its required secrets are missing).
 */
export const SECRETS_DIR = "/run/secrets/app";

/** ENVIRONMENT as both apps accept it; they refuse to start on anything else. */
export type AppEnvironment = "development" | "test" | "staging" | "production";

/** The app's non-secret settings (ConfigMap). */
export interface AppSettings {
  environment: AppEnvironment;
  appName: string;
  appVersion: string;
  debug: boolean;
  corsOrigins: string[];
  dbPoolSize: number;
  dbMaxOverflow: number;
  accessTokenExpireMinutes: number;
  refreshTokenExpireDays: number;
  /** Unset: tracing export off. */
  otelExporterOtlpEndpoint?: string;
  /** Port of the gunicorn master's /metrics, apart from the app's port (METRICS_PORT). */
  metricsPort: number;
  /**
   * Peers whose X-Forwarded-For/-Proto the app believes (FORWARDED_ALLOW_IPS). Empty: the app's
   * default, none but loopback.
   */
  forwardedAllowIps: string[];
  /** Host names the app answers (Django's ALLOWED_HOSTS): the public host and the in-cluster Service names. */
  allowedHosts: string[];
  /** Celery's soft and hard task time limits and the broker's visibility timeout, in seconds. */
  celery: { taskTimeLimitSeconds: number; taskSoftTimeLimitSeconds: number; visibilityTimeoutSeconds: number };
}

/** The app's secrets and connection URLs (Secret). */
export interface AppSecrets {
  secretKey: SecretValue;
  databaseUrl: SecretValue;
  /**
   * A URL that carries credentials stays a secret; a plain string (a password-less in-cluster
   * Redis) is an ordinary setting.
   */
  redisUrl: SecretValue | string;
  /** Unset: error reporting off. */
  sentryDsn?: SecretValue;
  /** Earlier SECRET_KEYs, comma-separated: what they signed still verifies, nothing new is signed with them. */
  secretKeyFallbacks?: SecretValue;
  /** The bearer tokens clients of the API send (API_TOKENS), comma-separated. */
  apiTokens: SecretValue;
}

export interface SettingsData {
  /** Non-secret settings (ConfigMap data). */
  plain: Record<string, string>;
  /** Secret settings (Secret stringData), still wrapped so they cannot be printed. */
  secret: Record<string, SecretValue>;
}

export function settingsData(settings: AppSettings, secrets: AppSecrets): SettingsData {
  const plain: Record<string, string> = {
    ENVIRONMENT: settings.environment,
    APP_NAME: settings.appName,
    APP_VERSION: settings.appVersion,
    DEBUG: String(settings.debug),
    CORS_ORIGINS: settings.corsOrigins.join(","),
    DB_POOL_SIZE: String(settings.dbPoolSize),
    DB_MAX_OVERFLOW: String(settings.dbMaxOverflow),
    ACCESS_TOKEN_EXPIRE_MINUTES: String(settings.accessTokenExpireMinutes),
    REFRESH_TOKEN_EXPIRE_DAYS: String(settings.refreshTokenExpireDays),
    METRICS_PORT: String(settings.metricsPort),
    CELERY_TASK_TIME_LIMIT: String(settings.celery.taskTimeLimitSeconds),
    CELERY_TASK_SOFT_TIME_LIMIT: String(settings.celery.taskSoftTimeLimitSeconds),
    CELERY_VISIBILITY_TIMEOUT: String(settings.celery.visibilityTimeoutSeconds),
  };
  if (settings.otelExporterOtlpEndpoint) {
    plain.OTEL_EXPORTER_OTLP_ENDPOINT = settings.otelExporterOtlpEndpoint;
  }
  if (settings.forwardedAllowIps.length > 0) {
    plain.FORWARDED_ALLOW_IPS = settings.forwardedAllowIps.join(",");
  }
  if (settings.allowedHosts.length > 0) {
    plain.ALLOWED_HOSTS = settings.allowedHosts.join(",");
  }
  const secret: Record<string, SecretValue> = {
    SECRET_KEY: secrets.secretKey,
    DATABASE_URL: secrets.databaseUrl,
    API_TOKENS: secrets.apiTokens,
  };
  if (secrets.sentryDsn) {
    secret.SENTRY_DSN = secrets.sentryDsn;
  }
  if (secrets.secretKeyFallbacks) {
    secret.SECRET_KEY_FALLBACKS = secrets.secretKeyFallbacks;
  }
  if (typeof secrets.redisUrl === "string") {
    plain.REDIS_URL = secrets.redisUrl;
  } else {
    secret.REDIS_URL = secrets.redisUrl;
  }
  return { plain, secret };
}

/**
 * HMAC-SHA256 over every setting, secret ones included, in a fixed order, keyed by the secret
 * values themselves. The digest lands in a pod annotation (and so in the state, previews and pull
 * request comments); a plain hash there would let anyone test guesses of a weak secret against
 * it, while the key here includes SECRET_KEY, which no outsider knows.
 */
export function settingsChecksum(data: SettingsData): string {
  const secrets = sorted(Object.entries(data.secret).map(([k, v]) => [k, v.reveal()] as const));
  const key = createHash("sha256");
  for (const [name, value] of secrets) {
    key.update(`${name}\0${value}\0`);
  }
  const hmac = createHmac("sha256", key.digest());
  for (const [kind, entries] of [
    ["plain", sorted(Object.entries(data.plain))],
    ["secret", secrets],
  ] as const) {
    for (const [name, value] of entries) {
      hmac.update(`${kind}\0${name}\0${value}\0`);
    }
  }
  return hmac.digest("hex");
}

function sorted<T extends readonly [string, string]>(entries: T[]): T[] {
  return [...entries].sort(([a], [b]) => a.localeCompare(b));
}

export function settingsId(checksum: string): string {
  return checksum.slice(0, SETTINGS_ID_LENGTH);
}

/**
 * Names of the ConfigMap and Secret of one set of settings: content-addressed, so new settings
 * are new objects and the pods of the release before keep reading theirs, unchanged.
 */
export function settingsObjectNames(naming: Naming, id: string): { configMap: string; secret: string } {
  return { configMap: naming.name("api", `settings-${id}`), secret: naming.name("api", `secrets-${id}`) };
}

/**
 * ALLOWED_HOSTS: the public host, then every name in-cluster clients may use for each Service
 * (`name`, `name.namespace`, `name.namespace.svc`, `name.namespace.svc.cluster.local`).
 */
export function allowedHosts(publicHosts: string[], serviceNames: string[], namespace: string): string[] {
  const inCluster = serviceNames.flatMap((service) =>
    ["", `.${namespace}`, `.${namespace}.svc`, `.${namespace}.svc.cluster.local`].map(
      (suffix) => `${service}${suffix}`,
    ),
  );
  return [...publicHosts, ...inCluster];
}
