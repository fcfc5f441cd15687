import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { inspect } from "node:util";
import { naming } from "../names";
import { SecretValue } from "../secret";
import {
  allowedHosts,
  SECRETS_DIR,
  settingsChecksum,
  settingsData,
  settingsId,
  settingsObjectNames,
  type AppSettings,
  type SettingsData,
} from "./spec";

const data = (secretKey: string, plain: Record<string, string> = { A: "1", B: "2" }): SettingsData => ({
  plain,
  secret: { SECRET_KEY: new SecretValue(secretKey) },
});

describe("settingsChecksum", () => {
  it("does not depend on key order", () => {
    assert.equal(settingsChecksum(data("s", { A: "1", B: "2" })), settingsChecksum(data("s", { B: "2", A: "1" })));
  });

  it("changes with any plain or secret value", () => {
    const base = settingsChecksum(data("s"));
    assert.notEqual(settingsChecksum(data("t")), base);
    assert.notEqual(settingsChecksum(data("s", { A: "1", B: "3" })), base);
  });

  it("tells a value moved between ConfigMap and Secret from one that stayed", () => {
    const asPlain: SettingsData = { plain: { K: "v" }, secret: {} };
    const asSecret: SettingsData = { plain: {}, secret: { K: new SecretValue("v") } };
    assert.notEqual(settingsChecksum(asPlain), settingsChecksum(asSecret));
  });
});

describe("settingsChecksum is an HMAC keyed by the secrets", () => {
  // What the annotation held before: a plain SHA-256 over the same text, which anyone who reads
  // the pod template could test guesses of a secret against.
  const plainSha256 = (d: SettingsData) => {
    const hash = createHash("sha256");
    for (const [kind, entries] of [
      ["plain", Object.entries(d.plain)],
      ["secret", Object.entries(d.secret).map(([k, v]) => [k, v.reveal()] as const)],
    ] as const) {
      for (const [key, value] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
        hash.update(`${kind}\0${key}\0${value}\0`);
      }
    }
    return hash.digest("hex");
  };

  it("cannot be recomputed from the settings without the secret values", () => {
    const d = data("a-secret-key-nobody-outside-knows");
    assert.match(settingsChecksum(d), /^[a-f0-9]{64}$/);
    assert.notEqual(settingsChecksum(d), plainSha256(d));
    // A guess of everything but the secret key gives another value: a guess cannot be confirmed.
    const weakGuess = data("guess");
    assert.notEqual(settingsChecksum(weakGuess), settingsChecksum(d));
  });
});

describe("content-addressed settings objects", () => {
  const n = naming({ appName: "api", environment: "prod", appVersion: "1", project: "api-stack" });

  it("names the ConfigMap and Secret by the checksum's first 8 hex digits", () => {
    const checksum = settingsChecksum(data("s"));
    assert.equal(settingsId(checksum), checksum.slice(0, 8));
    assert.deepEqual(settingsObjectNames(n, "0123abcd"), {
      configMap: "api-settings-0123abcd",
      secret: "api-secrets-0123abcd",
    });
  });

  it("lists the public host and every in-cluster name of each Service in ALLOWED_HOSTS", () => {
    assert.deepEqual(allowedHosts(["api.example.com"], ["api", "api-preview"], "api-prod"), [
      "api.example.com",
      "api",
      "api.api-prod",
      "api.api-prod.svc",
      "api.api-prod.svc.cluster.local",
      "api-preview",
      "api-preview.api-prod",
      "api-preview.api-prod.svc",
      "api-preview.api-prod.svc.cluster.local",
    ]);
  });
});

describe("settingsData: the apps' environment contract", () => {
  const settings: AppSettings = {
    environment: "production",
    appName: "api",
    appVersion: "1",
    debug: false,
    corsOrigins: [],
    dbPoolSize: 5,
    dbMaxOverflow: 10,
    accessTokenExpireMinutes: 30,
    refreshTokenExpireDays: 7,
    metricsPort: 9100,
    forwardedAllowIps: ["10.244.0.0/24", "10.0.0.1"],
    allowedHosts: ["api.example.com", "api"],
    celery: { taskTimeLimitSeconds: 120, taskSoftTimeLimitSeconds: 100, visibilityTimeoutSeconds: 600 },
  };
  const secrets = {
    secretKey: new SecretValue("k"),
    databaseUrl: new SecretValue("postgresql://db/app"),
    redisUrl: new SecretValue("redis://r"),
    apiTokens: new SecretValue("t"),
  };

  it("hands over the metrics port, trusted proxies, allowed hosts and Celery limits as settings", () => {
    const { plain } = settingsData(settings, secrets);
    assert.equal(plain.METRICS_PORT, "9100");
    assert.equal(plain.FORWARDED_ALLOW_IPS, "10.244.0.0/24,10.0.0.1");
    assert.equal(plain.ALLOWED_HOSTS, "api.example.com,api");
    assert.equal(plain.CELERY_TASK_TIME_LIMIT, "120");
    assert.equal(plain.CELERY_TASK_SOFT_TIME_LIMIT, "100");
    assert.equal(plain.CELERY_VISIBILITY_TIMEOUT, "600");
  });

  it("leaves FORWARDED_ALLOW_IPS and ALLOWED_HOSTS to the apps' defaults when empty", () => {
    const { plain } = settingsData({ ...settings, forwardedAllowIps: [], allowedHosts: [] }, secrets);
    assert.equal(plain.FORWARDED_ALLOW_IPS, undefined);
    assert.equal(plain.ALLOWED_HOSTS, undefined);
  });

  it("puts SECRET_KEY_FALLBACKS in the Secret, only during a rotation", () => {
    assert.equal(settingsData(settings, secrets).secret.SECRET_KEY_FALLBACKS, undefined);
    const rotating = settingsData(settings, { ...secrets, secretKeyFallbacks: new SecretValue("old-key") });
    assert.equal(rotating.secret.SECRET_KEY_FALLBACKS.reveal(), "old-key");
    assert.equal(rotating.plain.SECRET_KEY_FALLBACKS, undefined);
  });

  it("puts API_TOKENS in the Secret", () => {
    const { plain, secret } = settingsData(settings, secrets);
    assert.equal(secret.API_TOKENS.reveal(), "t");
    assert.equal(plain.API_TOKENS, undefined);
  });

  it("mounts the Secret where the apps read it by default, since no setting names the directory", () => {
    for (const file of ["apps/fastapi/app/config.py", "apps/django/config/settings/env.py"]) {
      const source = fs.readFileSync(path.resolve(__dirname, "../..", file), "utf8");
      assert.match(source, new RegExp(`^DEFAULT_SECRETS_DIR = "${SECRETS_DIR}"$`, "m"), file);
    }
  });
});

describe("SecretValue", () => {
  it("prints as [secret] however it is printed", () => {
    const value = new SecretValue("hunter2");
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- how it prints there is the test
    assert.equal(`${value}`, "[secret]");
    assert.equal(JSON.stringify({ value }), '{"value":"[secret]"}');
    assert.equal(inspect(value), "[secret]");
    assert.equal(value.reveal(), "hunter2");
  });
});
