// Pure builder for the app's environment: which settings go to the ConfigMap, which to the
// Secret, and the checksum that rolls the pods when either changes. The variable names and
// values are the contract with the apps (docs/apps.md).
import { createHash } from "node:crypto";
import type { SecretValue } from "../secret";

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
  };
  if (settings.otelExporterOtlpEndpoint) {
    plain.OTEL_EXPORTER_OTLP_ENDPOINT = settings.otelExporterOtlpEndpoint;
  }
  const secret: Record<string, SecretValue> = { SECRET_KEY: secrets.secretKey, DATABASE_URL: secrets.databaseUrl };
  if (secrets.sentryDsn) {
    secret.SENTRY_DSN = secrets.sentryDsn;
  }
  if (typeof secrets.redisUrl === "string") {
    plain.REDIS_URL = secrets.redisUrl;
  } else {
    secret.REDIS_URL = secrets.redisUrl;
  }
  return { plain, secret };
}

/**
 * SHA-256 over every setting, secret ones included, in a fixed order. Only the digest leaves
 * this function; it lands in a pod annotation, so a changed value rolls the pods.
 */
export function settingsChecksum(data: SettingsData): string {
  const hash = createHash("sha256");
  for (const [kind, entries] of [
    ["plain", Object.entries(data.plain)],
    ["secret", Object.entries(data.secret).map(([k, v]) => [k, v.reveal()] as const)],
  ] as const) {
    for (const [key, value] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
      hash.update(`${kind}\0${key}\0${value}\0`);
    }
  }
  return hash.digest("hex");
}
