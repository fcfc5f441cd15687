// The main job for real: the dev stack's shape deployed by the real engine to the local cluster's
// real node. Every pod really runs: the migration Job against the in-cluster Postgres, the API
// behind its probes, the Celery worker on Redis. Requests go through Traefik on 127.0.0.1:80.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { localShape, setConfig, type ConfigValues } from "../../tools/automation";
import { explain, startLoadInThread, tally } from "../support/load";
import {
  changes,
  eventually,
  exists,
  kubectl,
  kubectlJson,
  newStack,
  nodeObjects,
  podExec,
  progress,
  viaIngress,
} from "./env";
import { buildReleases } from "../support/releases";

const NAMESPACE = "api-e2edev";
const HOST = "api.e2edev.localhost";
const SECRET_KEY = "e2e-dev-secret-key-0123456789abcdef0123456789abcdef0123";
/** The bearer token every notes request sends (API_TOKENS). */
const TOKEN = "e2e-dev-api-token-0123456789abcdef0123456789";
const SECRETS = { secretKey: SECRET_KEY, devPostgresPassword: "e2e-postgres-password", apiTokens: TOKEN };

const psql = (sql: string) =>
  podExec(
    NAMESPACE,
    "api-postgres-0",
    "env",
    `PGPASSWORD=${SECRETS.devPostgresPassword}`,
    "psql",
    "-U",
    "app",
    "-d",
    "app",
    "-tAc",
    sql,
  ).trim();
const apiPods = () =>
  kubectlJson("get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=api").items.filter(
    (pod: any) => !pod.metadata.deletionTimestamp,
  );

describe("the dev stack on the real node", function () {
  this.timeout(20 * 60_000);
  let stack: Stack;
  let v1: string, v2: string;
  // The load below comes from one client address: above the default rate limit it would get 429s.
  const config = (image: string): ConfigValues => ({
    ...localShape("dev", image, SECRETS),
    namespace: NAMESPACE,
    ingressHost: HOST,
    rateLimitPerMinute: 100_000,
  });

  before(async () => {
    [v1, v2] = buildReleases(2);
    stack = await newStack("e2edev", config(v1), Object.keys(SECRETS));
  });

  it("`up`: the migrations run on the in-cluster Postgres, the API becomes ready through its probes", async () => {
    progress("dev: pulumi up");
    const result = await stack.up({ onOutput: () => undefined });
    assert.equal(result.summary.result, "succeeded");
    assert.equal(result.outputs.image.value, v1);

    const job = kubectlJson("get", "job", String(result.outputs.migrationJob.value), "-n", NAMESPACE);
    assert.equal(job.status.succeeded, 1, "the migration Job completed");
    assert.match(psql("SELECT version_num FROM alembic_version"), /^\w+$/, "alembic recorded the schema version");
    assert.equal(psql("SELECT to_regclass('public.notes') IS NOT NULL"), "t", "the notes table exists");

    const pods = apiPods();
    assert.ok(pods.length >= 1);
    for (const pod of pods) {
      const container = pod.spec.containers[0];
      assert.ok(container.readinessProbe?.httpGet && container.livenessProbe?.httpGet, "the API pod has HTTP probes");
      assert.equal(pod.status.containerStatuses[0].ready, true, `${pod.metadata.name} is ready`);
      assert.equal(pod.spec.containers[0].image, v1, "pods run the digest, not a tag");
    }
    for (const service of ["postgres", "redis"]) {
      const pod = kubectlJson("get", "pod", `api-${service}-0`, "-n", NAMESPACE);
      assert.equal(pod.status.containerStatuses[0].ready, true, `${service} is ready`);
      const claim = kubectlJson("get", "pvc", `data-api-${service}-0`, "-n", NAMESPACE);
      assert.equal(claim.status.phase, "Bound", `${service}'s volume is bound`);
    }
    const worker = kubectlJson("get", "deployment", "api-worker", "-n", NAMESPACE);
    assert.ok(worker.status.readyReplicas >= 1, "the Celery worker runs");
  });

  it("a request through the ingress stores a note in Postgres, and the worker counts its words via Redis", async () => {
    const created = await viaIngress(HOST, "/notes", {
      json: { title: "e2e", body: "one two three four five" },
      token: TOKEN,
    });
    assert.equal(created.status, 201, created.body);
    const id = JSON.parse(created.body).id as number;
    assert.equal(psql(`SELECT title FROM notes WHERE id = ${id}`), "e2e", "the row is in Postgres");
    const counted = await eventually("the word count from the Celery task", 60, async () => {
      const note = JSON.parse((await viaIngress(HOST, `/notes/${id}`, { token: TOKEN })).body);
      return note.word_count === null ? undefined : note.word_count;
    });
    assert.equal(counted, 6, "title and body: e2e + five words");
  });

  it("NetworkPolicies: a pod of another namespace reaches neither the API nor Redis; ingress still works", async () => {
    const outsider = "e2e-outsider";
    kubectl("create", "namespace", outsider);
    try {
      kubectl(
        "run",
        "probe",
        "-n",
        outsider,
        "--image",
        v1,
        "--restart=Never",
        "--command",
        "--",
        "python",
        "-c",
        "import time; time.sleep(600)",
      );
      kubectl("wait", "-n", outsider, "--for=condition=Ready", "pod/probe", "--timeout=120s");
      const apiIp = apiPods()[0].status.podIP;
      const reach = (host: string, port: number) =>
        podExec(
          outsider,
          "probe",
          "python",
          "-c",
          `import socket\ntry:\n socket.create_connection((${JSON.stringify(host)}, ${port}), timeout=3); ` +
            `print("open")\nexcept OSError as e: print("blocked", type(e).__name__)`,
        ).trim();
      assert.match(reach(apiIp, 8000), /^blocked/, "the API pod's port");
      assert.match(reach(`api.${NAMESPACE}.svc.cluster.local`, 80), /^blocked/, "the API Service");
      assert.match(reach(`api-redis.${NAMESPACE}.svc.cluster.local`, 6379), /^blocked/, "dev Redis");
      assert.match(reach(`api-postgres.${NAMESPACE}.svc.cluster.local`, 5432), /^blocked/, "dev Postgres");
      assert.equal(
        (await viaIngress(HOST, "/health/live")).status,
        200,
        "the ingress controller still reaches the API",
      );
    } finally {
      kubectl("delete", "namespace", outsider, "--wait=false");
    }
  });

  it("Redis down for 30 s: the API stays in its Service and requests that need only Postgres all succeed", async () => {
    const id = JSON.parse(
      (await viaIngress(HOST, "/notes", { json: { title: "during outage" }, token: TOKEN })).body,
    ).id;
    const load = await startLoadInThread({
      url: `http://127.0.0.1/notes/${id}`,
      host: HOST,
      token: TOKEN,
      ratePerSecond: 10,
      maxRequests: 600,
      maxSeconds: 60,
    });
    progress("dev: Redis stopped for 30 s under load");
    kubectl("scale", "statefulset", "api-redis", "-n", NAMESPACE, "--replicas=0");
    try {
      await eventually("Redis gone", 60, () => (exists("pod", "api-redis-0", NAMESPACE) ? undefined : true));
      await new Promise((r) => setTimeout(r, 30_000));
      const ready = kubectlJson("get", "endpointslices", "-n", NAMESPACE, "-l", "kubernetes.io/service-name=api")
        .items.flatMap((slice: any) => slice.endpoints ?? [])
        .filter((endpoint: any) => endpoint.conditions?.ready);
      assert.ok(ready.length >= 1, "the API pods stayed in the Service while Redis was down");
    } finally {
      kubectl("scale", "statefulset", "api-redis", "-n", NAMESPACE, "--replicas=1");
    }
    const result = await load.stop();
    progress(`dev: ${result.sent} requests during the Redis outage, ${result.failed} failed`);
    assert.equal(result.failed, 0, explain(result));
    assert.ok(result.sent >= 300);
    await eventually("Redis back", 120, () =>
      kubectlJson("get", "statefulset", "api-redis", "-n", NAMESPACE).status.readyReplicas === 1 ? true : undefined,
    );
  });

  it("a rolling update under load loses no request", async () => {
    // Users reading a note, through the database. Not /health/ready: that answers 503 by design
    // when its 1 s database check is slow, which tells the kubelet, and loses no user's request.
    const id = JSON.parse(
      (await viaIngress(HOST, "/notes", { json: { title: "during the update" }, token: TOKEN })).body,
    ).id;
    const load = await startLoadInThread({
      url: `http://127.0.0.1/notes/${id}`,
      host: HOST,
      token: TOKEN,
      ratePerSecond: 20,
      maxRequests: 6000,
      maxSeconds: 300,
    });
    progress("dev: rolling update to a new image under load");
    await setConfig(stack, { imageRef: v2 });
    const result = await stack.up({ onOutput: () => undefined });
    const traffic = await load.stop();
    progress(`dev: across the rolling update, ${tally(traffic)}`);
    assert.equal(result.summary.result, "succeeded");
    assert.equal(traffic.failed, 0, explain(traffic));
    assert.ok(apiPods().every((pod: any) => pod.spec.containers[0].image === v2));
    // Rolling: the worker moves with the API, in the same update.
    const worker = kubectlJson("get", "deployment", "api-worker", "-n", NAMESPACE);
    assert.equal(worker.spec.template.spec.containers[0].image, v2);
  });

  it("a second preview shows no changes and refresh finds no drift", async () => {
    const preview = await stack.preview({ expectNoChanges: true, onOutput: () => undefined });
    assert.deepEqual(changes(preview.changeSummary), [], JSON.stringify(preview.changeSummary));
    const refresh = await stack.refresh({ onOutput: () => undefined });
    assert.deepEqual(changes(refresh.summary.resourceChanges), [], JSON.stringify(refresh.summary.resourceChanges));
  });

  it("keeps secrets out of the state in plaintext", async () => {
    const state = JSON.stringify(await stack.exportStack());
    assert.ok(!state.includes(SECRET_KEY), "the secret key appears in plaintext in the state");
    assert.ok(!state.includes(SECRETS.devPostgresPassword), "the database password appears in plaintext in the state");
    assert.ok(!state.includes(TOKEN), "the API token appears in plaintext in the state");
  });

  it("`destroy` leaves no pod, container or claim of the stack on the node", async () => {
    progress("dev: pulumi destroy");
    const claims = ["postgres", "redis"].map(
      (service) => kubectlJson("get", "pvc", `data-api-${service}-0`, "-n", NAMESPACE).spec.volumeName,
    );
    await stack.destroy({ onOutput: () => undefined });
    await eventually(`namespace ${NAMESPACE} to be gone`, 180, () =>
      exists("namespace", NAMESPACE) ? undefined : true,
    );
    await eventually("the node to have stopped every pod of the stack", 60, () => {
      const left = nodeObjects(NAMESPACE);
      return left.pods.length === 0 && left.containers.length === 0 ? true : undefined;
    });
    for (const volume of claims) {
      // The claims went with the stack; the volumes they bound are the cluster admin's (Retain).
      assert.equal(kubectlJson("get", "pv", volume).status.phase, "Released", `${volume} was released`);
    }
  });
});
