// Pure builder for the app's environment: which settings go to the ConfigMap, which to the
// Secret, and the checksum that rolls the pods when either changes.
import { createHash } from "node:crypto";
import type { SecretValue, StackConfig } from "../../config";

export interface SettingsData {
  /** Non-secret settings (ConfigMap data). */
  plain: Record<string, string>;
  /** Secret settings (Secret stringData), still wrapped so they cannot be printed. */
  secret: Record<string, SecretValue>;
}

/** Connection URLs of in-cluster dev services, when the stack runs them. */
export interface DevServiceUrls {
  databaseUrl: SecretValue;
  redisUrl: string;
}

export function settingsData(config: StackConfig, dev?: DevServiceUrls): SettingsData {
  const { settings, secrets } = config;
  const plain: Record<string, string> = {
    ENVIRONMENT: config.environment,
    APP_NAME: config.appName,
    APP_VERSION: config.appVersion,
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
  const secret: Record<string, SecretValue> = { SECRET_KEY: secrets.secretKey };
  if (secrets.sentryDsn) {
    secret.SENTRY_DSN = secrets.sentryDsn;
  }

  // The in-cluster Redis has no password, so its URL is an ordinary setting; an external
  // Redis URL carries credentials and stays secret. The database URL always carries them.
  if (dev) {
    plain.REDIS_URL = dev.redisUrl;
    secret.DATABASE_URL = dev.databaseUrl;
  } else {
    if (!secrets.databaseUrl || !secrets.redisUrl) {
      throw new Error("settingsData: databaseUrl and redisUrl are required without dev services");
    }
    secret.DATABASE_URL = secrets.databaseUrl;
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
