import { strict as assert } from "node:assert";
import { naming } from "../names";
import { devServiceUrls, postgresStatefulSetSpec } from "./spec";
import { SecretValue } from "../secret";

const n = naming({ appName: "api", environment: "dev", appVersion: "0.1.0", project: "api-stack" });

describe("dev services", () => {
  it("points the app at the in-cluster Services by their DNS names", () => {
    assert.deepEqual(devServiceUrls(n, "api-dev", "pw"), {
      databaseUrl: "postgresql://app:pw@api-postgres.api-dev.svc.cluster.local:5432/app",
      redisUrl: "redis://api-redis.api-dev.svc.cluster.local:6379/0",
    });
  });

  it("reads the Postgres password from a Secret, never from the spec", () => {
    const spec = postgresStatefulSetSpec({
      naming: n,
      config: {
        postgres: { image: "postgres:16-alpine", storage: "2Gi", password: new SecretValue("pw") },
        redis: { image: "redis" },
      },
      passwordSecretName: "api-postgres",
    }) as any;
    const env = spec.template.spec.containers[0].env;
    const password = env.find((e: any) => e.name === "POSTGRES_PASSWORD");
    assert.deepEqual(password.valueFrom, { secretKeyRef: { name: "api-postgres", key: "POSTGRES_PASSWORD" } });
    assert.ok(!JSON.stringify(spec).includes('"pw"'));
    assert.equal(spec.volumeClaimTemplates[0].spec.resources.requests.storage, "2Gi");
  });
});
