// no-secrets-in-configmap and no-secrets-in-pods: credentials live in Secrets, never in a ConfigMap
// nor written into a pod's spec.
import { strict as assert } from "node:assert";
import { looksSecret, noSecretsInConfigMap, noSecretsInPods } from "../../../policy/rules/secrets";
import {
  configMap,
  deployment,
  migrationJob,
  patchOf,
  POD_BEARING,
  podPatch,
  podSpec,
  T,
  workerDeployment,
} from "./fixtures";

describe("policy rules: secrets", () => {
  describe("no-secrets-in-configmap", () => {
    it("passes the program's settings, token lifetimes included", () => {
      assert.deepEqual(
        noSecretsInConfigMap(
          T.configMap,
          configMap({ REDIS_URL: "redis://api-redis.api-dev.svc.cluster.local:6379/0" }),
        ),
        [],
      );
    });

    it("tells secret-looking names from settings that only talk about secrets", () => {
      for (const name of [
        "DB_PASSWORD",
        "SECRET_KEY",
        "GITHUB_TOKEN",
        "TOKEN",
        "SENTRY_DSN",
        "DATABASE_URL",
        "READONLY_DATABASE_URL",
        "STRIPE_API_KEY",
        "aws_secret_access_key",
        "APIKEY",
        "SMTP_CREDENTIALS",
      ]) {
        assert.ok(looksSecret(name), name);
      }
      for (const name of [
        "ACCESS_TOKEN_EXPIRE_MINUTES",
        "REFRESH_TOKEN_EXPIRE_DAYS",
        "CACHE_KEY_PREFIX",
        "KEY",
        "REDIS_URL",
        "DB_POOL_SIZE",
        "ENVIRONMENT",
      ]) {
        assert.ok(!looksSecret(name), name);
      }
    });

    it("refuses secret keys, naming the secret config key that feeds them", () => {
      assert.deepEqual(
        noSecretsInConfigMap(T.configMap, configMap({ SECRET_KEY: "x".repeat(40), STRIPE_API_KEY: "sk_live" })),
        [
          "ConfigMap key SECRET_KEY looks like a secret: move it to the Secret: it comes from the secret config " +
            "key api-stack:secretKey (pulumi config set --secret secretKey)",
          "ConfigMap key STRIPE_API_KEY looks like a secret: move it to a Secret and read it through " +
            "envFrom.secretRef or secretKeyRef",
        ],
      );
    });

    it("refuses a URL that carries a password, and secret keys in binaryData", () => {
      const object = configMap({ REDIS_URL: "rediss://:hunter2@redis.internal:6380/0" });
      object.binaryData = { TLS_PRIVATE_KEY: "LS0tLS1CRUdJTg==" };
      assert.deepEqual(noSecretsInConfigMap(T.configMap, object), [
        "ConfigMap key REDIS_URL holds a URL with a password: move it to the Secret: " +
          "it comes from the secret config key api-stack:redisUrl (pulumi config set --secret redisUrl)",
        "ConfigMap key TLS_PRIVATE_KEY looks like a secret: move it to a Secret and read it through " +
          "envFrom.secretRef or secretKeyRef",
      ]);
    });

    it("checks the keys a ConfigMapPatch adds", () => {
      const patch = patchOf(T.configMap);
      assert.deepEqual(
        noSecretsInConfigMap(patch, { metadata: { name: "api-settings" }, data: { LOG_LEVEL: "debug" } }),
        [],
      );
      assert.deepEqual(
        noSecretsInConfigMap(patch, {
          metadata: { name: "api-settings" },
          data: { SENTRY_DSN: "https://key@sentry.example.com/1" },
        }),
        [
          "ConfigMap key SENTRY_DSN looks like a secret: move it to the Secret: it comes from the secret config " +
            "key api-stack:sentryDsn (pulumi config set --secret sentryDsn)",
        ],
      );
    });

    it("finds a URL with a password anywhere in a value, and names the setting of a file that holds it", () => {
      assert.deepEqual(
        noSecretsInConfigMap(
          T.configMap,
          configMap({ "app.env": "LOG_LEVEL=info\nDATABASE_URL=postgres://api:hunter2@db.internal:5432/api\n" }),
        ),
        [
          "ConfigMap key app.env holds a URL with a password (in DATABASE_URL): move it to the Secret: " +
            "it comes from the secret config key api-stack:databaseUrl (pulumi config set --secret databaseUrl)",
        ],
      );
      assert.deepEqual(
        noSecretsInConfigMap(
          T.configMap,
          configMap({ "settings.yaml": 'broker:\n  url: "amqp://api:hunter2@mq:5672/"\n' }),
        ),
        [
          "ConfigMap key settings.yaml holds a URL with a password (in url): move it to a Secret and read it " +
            "through envFrom.secretRef or secretKeyRef",
        ],
      );
      assert.deepEqual(
        noSecretsInConfigMap(T.configMap, configMap({ CALLBACK: "see https://api:hunter2@hooks.example.com/x" })),
        [
          "ConfigMap key CALLBACK holds a URL with a password: move it to a Secret and read it through " +
            "envFrom.secretRef or secretKeyRef",
        ],
      );
    });

    it("refuses a secret-named setting of a file with a literal value", () => {
      assert.deepEqual(
        noSecretsInConfigMap(T.configMap, configMap({ "app.env": "DEBUG=false\nSECRET_KEY=abc123\n" })),
        [
          "ConfigMap key app.env sets SECRET_KEY, which looks like a secret: move it to the Secret: " +
            "it comes from the secret config key api-stack:secretKey (pulumi config set --secret secretKey)",
        ],
      );
      assert.deepEqual(noSecretsInConfigMap(T.configMap, configMap({ "db.yaml": "db:\n  password: 'hunter2'\n" })), [
        "ConfigMap key db.yaml sets password, which looks like a secret: move it to a Secret and read it through " +
          "envFrom.secretRef or secretKeyRef",
      ]);
    });

    it("passes files that only refer to secrets, leave them empty, and one-line settings that only mention one", () => {
      const object = configMap({
        "app.env":
          "DATABASE_URL=postgres://api:${DB_PASSWORD}@db.internal:5432/api\nSECRET_KEY=\nAPI_TOKEN=$API_TOKEN\n",
        "settings.yaml": 'auth:\n  password: ""\n  tokenTtl: 30\n',
        LOG_FORMAT: "password: %s",
      });
      assert.deepEqual(noSecretsInConfigMap(T.configMap, object), []);
    });
  });

  describe("no-secrets-in-pods", () => {
    const DATABASE_URL =
      "sets DATABASE_URL to a URL with a password: move it to the Secret: it comes from the secret config key " +
      "api-stack:databaseUrl (pulumi config set --secret databaseUrl)";

    it("passes the program's pods, which read their secrets from the Secret", () => {
      assert.deepEqual(noSecretsInPods(T.deployment, deployment()), []);
      assert.deepEqual(noSecretsInPods(T.deployment, workerDeployment()), []);
      assert.deepEqual(noSecretsInPods(T.job, migrationJob()), []);
    });

    it("refuses a URL with a password or a secret-named literal in env, on every pod-bearing kind", () => {
      for (const [type, make] of POD_BEARING) {
        const object = make();
        const [container] = podSpec(type, object).containers;
        container.env = [
          ...(container.env ?? []),
          { name: "DATABASE_URL", value: "postgres://api:hunter2@db.internal:5432/api" },
          { name: "STRIPE_API_KEY", value: "sk_live_1" },
          { name: "SECRET_KEY", valueFrom: { secretKeyRef: { name: "api-secrets", key: "SECRET_KEY" } } },
          { name: "DB_PASSWORD", value: "" },
          { name: "MIRRORS", value: "https://u:$(MIRROR_PASSWORD)@a.example.com https://u:hunter2@b.example.com" },
        ];
        assert.deepEqual(
          noSecretsInPods(type, object),
          [
            `container "${container.name}" ${DATABASE_URL}`,
            `container "${container.name}" sets STRIPE_API_KEY, which looks like a secret, to a literal value: ` +
              "move it to a Secret and read it through valueFrom.secretKeyRef (or envFrom.secretRef)",
            `container "${container.name}" sets MIRRORS to a URL with a password: ` +
              "move it to a Secret and read it through valueFrom.secretKeyRef (or envFrom.secretRef)",
          ],
          type,
        );
      }
    });

    it("passes a URL whose password refers to another variable, or that carries no credentials", () => {
      const object = migrationJob();
      object.spec.template.spec.containers[0].env = [
        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "api-secrets", key: "DB_PASSWORD" } } },
        { name: "DATABASE_URL", value: "postgres://api:$(DB_PASSWORD)@db.internal:5432/api" },
        { name: "API_TOKEN", value: "$(TOKEN_FROM_SECRET)" },
        { name: "READONLY_DATABASE_URL", value: "postgres://db-replica.internal:5432/api" },
        { name: "MIRRORS", value: "https://u:$(MIRROR_PASSWORD)@a.example.com https://b.example.com" },
      ];
      assert.deepEqual(noSecretsInPods(T.job, object), []);
      // A DSN's user is its key.
      object.spec.template.spec.containers[0].env = [
        { name: "SENTRY_DSN", value: "https://abc123@sentry.example.com/1" },
      ];
      assert.deepEqual(noSecretsInPods(T.job, object), [
        'container "migration" sets SENTRY_DSN, which looks like a secret, to a literal value: ' +
          "move it to the Secret: it comes from the secret config key api-stack:sentryDsn (pulumi config set " +
          "--secret sentryDsn)",
      ]);
    });

    it("refuses a URL with a password in a command or its arguments", () => {
      const object = migrationJob();
      Object.assign(object.spec.template.spec.containers[0], {
        command: ["psql", "postgres://api:hunter2@db.internal:5432/api"],
        args: ["-c", "select 1"],
      });
      assert.deepEqual(noSecretsInPods(T.job, object), [
        'container "migration" passes a URL with a password in its command, which anyone who reads the pod sees: ' +
          "read the password from a Secret into an environment variable (valueFrom.secretKeyRef (or " +
          "envFrom.secretRef)) and refer to it as $(NAME)",
      ]);
    });

    it("judges the env a patch sets", () => {
      for (const [type] of POD_BEARING) {
        assert.deepEqual(
          noSecretsInPods(
            ...podPatch(type, {
              initContainers: [{ name: "wait", env: [{ name: "DATABASE_URL", value: "postgres://a:b@db/x" }] }],
            }),
          ),
          [`init container "wait" ${DATABASE_URL}`],
          type,
        );
        assert.deepEqual(
          noSecretsInPods(
            ...podPatch(type, { containers: [{ name: "api", env: [{ name: "LOG_LEVEL", value: "debug" }] }] }),
          ),
          [],
          type,
        );
      }
    });
  });
});
