// The default release reader against a stand-in API server on loopback (plain HTTP, a bearer
// token): what it asks for, and how each answer becomes an observation.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { SETTINGS_CHECKSUM_ANNOTATION } from "../names";
import { clusterReleaseReader, noClusterReader, type ReleaseTarget } from "./cluster-reader";

const ref = (c: string) => `registry.example.com/api@sha256:${c.repeat(64)}`;
const TOKEN = "unit-test-token";
const rollout = {
  kind: "Rollout",
  metadata: { name: "api", namespace: "api-prod", uid: "uid-1" },
  spec: { selector: { matchLabels: { "app.kubernetes.io/name": "api", "app.kubernetes.io/component": "api" } } },
  status: { blueGreen: { activeSelector: "h1" }, currentPodHash: "h2", phase: "Paused" },
};
const replicaSet = (hash: string, revision: number, image: string) => ({
  metadata: {
    labels: { "rollouts-pod-template-hash": hash },
    annotations: { "rollout.argoproj.io/revision": String(revision) },
    ownerReferences: [{ uid: "uid-1" }],
  },
  spec: { template: { spec: { containers: [{ name: "api", image }] } } },
});
const target = (namespace: string, name = "api"): ReleaseTarget => ({
  kind: "Rollout",
  namespace,
  name,
  container: "api",
});
/**
 * Rollout statuses the stand-in answers in turn for namespace api-wait, where a release goes from
 * the old image to ref("2").
 */
const releasing = [
  { observedGeneration: "1", currentPodHash: "h1", stableRS: "h1", phase: "Healthy" },
  { observedGeneration: "2", currentPodHash: "h2", stableRS: "h1", phase: "Progressing" },
  { observedGeneration: "2", currentPodHash: "h2", stableRS: "h2", phase: "Healthy" },
];

describe("clusterReleaseReader (a loopback stand-in for the API server)", () => {
  const requests: Array<{ method?: string; url?: string; authorization?: string }> = [];
  let kubeconfig: string;
  const server = http.createServer((request, response) => {
    requests.push({ method: request.method, url: request.url, authorization: request.headers.authorization });
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return json(401, {});
    }
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/apis/argoproj.io/v1alpha1/namespaces/api-prod/rollouts/api") {
      return json(200, rollout);
    }
    if (url.pathname === "/apis/argoproj.io/v1alpha1/namespaces/api-wait/rollouts/api") {
      return json(200, {
        ...rollout,
        metadata: { ...rollout.metadata, namespace: "api-wait", generation: 2 },
        status: releasing.shift(),
      });
    }
    if (url.pathname === "/apis/apps/v1/namespaces/api-wait/replicasets") {
      const withChecksum = (set: ReturnType<typeof replicaSet>) => ({
        ...set,
        spec: {
          template: { ...set.spec.template, metadata: { annotations: { [SETTINGS_CHECKSUM_ANNOTATION]: "sum" } } },
        },
      });
      return json(200, {
        items: [withChecksum(replicaSet("h1", 1, ref("1"))), withChecksum(replicaSet("h2", 2, ref("2")))],
      });
    }
    if (url.pathname === "/apis/apps/v1/namespaces/api-prod/replicasets") {
      assert.equal(url.searchParams.get("labelSelector"), "app.kubernetes.io/name=api,app.kubernetes.io/component=api");
      return json(200, { items: [replicaSet("h1", 1, ref("1")), replicaSet("h2", 2, ref("2"))] });
    }
    if (url.pathname.startsWith("/apis/argoproj.io/v1alpha1/namespaces/locked/")) {
      return json(403, {});
    }
    return json(404, {});
  });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = [
      "apiVersion: v1",
      "kind: Config",
      "current-context: unit",
      "contexts: [{ name: unit, context: { cluster: loopback, user: reader } }]",
      `clusters: [{ name: loopback, cluster: { server: "http://127.0.0.1:${port}" } }]`,
      `users: [{ name: reader, user: { token: ${TOKEN} } }]`,
      "",
    ].join("\n");
  });
  after(() => server.close());

  it("reads the Rollout and the ReplicaSets it owns, with GETs only", async () => {
    requests.length = 0;
    assert.deepEqual(await clusterReleaseReader({ kubeconfig })(target("api-prod")), {
      kind: "live",
      active: ref("1"),
      current: ref("2"),
      phase: "Paused",
    });
    assert.deepEqual(
      requests.map((r) => r.method),
      ["GET", "GET"],
    );
  });

  it("takes a kubeconfig file as the provider does, by path or from $KUBECONFIG", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-kubeconfig-"));
    const file = path.join(dir, "config");
    fs.writeFileSync(file, kubeconfig);
    assert.equal((await clusterReleaseReader({ kubeconfig: file })(target("api-prod"))).kind, "live");
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file;
    try {
      assert.equal((await clusterReleaseReader()(target("api-prod"))).kind, "live");
    } finally {
      if (saved === undefined) {
        delete process.env.KUBECONFIG;
      } else {
        process.env.KUBECONFIG = saved;
      }
      fs.rmSync(dir, { recursive: true });
    }
  });

  it("answers absent for a 404: no Rollout yet, the first release", async () => {
    assert.deepEqual(await clusterReleaseReader({ kubeconfig })(target("api-prod", "orders")), { kind: "absent" });
  });

  it("answers unknown for a 403, an unknown context, no cluster and no kubeconfig", async () => {
    const unknown = async (reader: ReturnType<typeof clusterReleaseReader>, namespace = "api-prod") => {
      const observed = await reader(target(namespace));
      assert.equal(observed.kind, "unknown");
      return (observed as { reason: string }).reason;
    };
    assert.match(await unknown(clusterReleaseReader({ kubeconfig }), "locked"), /HTTP 403/);
    assert.match(await unknown(clusterReleaseReader({ kubeconfig, context: "prod" })), /no context named "prod"/);
    assert.match(
      await unknown(clusterReleaseReader({ kubeconfig: kubeconfig.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:1") })),
      /ECONNREFUSED/,
    );
    assert.match(await unknown(clusterReleaseReader({ kubeconfig: "/nonexistent/kubeconfig" })), /no kubeconfig found/);
  });

  it("runs an exec credential plugin for its token, and never quotes a kubeconfig in a reason", async () => {
    const plugin = {
      command: process.execPath,
      args: ["-e", `console.log(JSON.stringify({ kind: "ExecCredential", status: { token: "${TOKEN}" } }))`],
    };
    const withExec = kubeconfig.replace(
      `{ token: ${TOKEN} }`,
      `{ exec: ${JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", ...plugin })} }`,
    );
    assert.equal((await clusterReleaseReader({ kubeconfig: withExec })(target("api-prod"))).kind, "live");

    const broken = `${kubeconfig}users: [{ name: reader, user: { token: s3cr3t-token ] }\n`;
    const observed = await clusterReleaseReader({ kubeconfig: broken })(target("api-prod"));
    assert.deepEqual(observed, {
      kind: "unknown",
      reason: "the kubeconfig in kubernetes:kubeconfig is not valid YAML",
    });
  });

  it("waits for a release with the same GETs, polling until the candidate is stable", async () => {
    requests.length = 0;
    const shown: string[] = [];
    const outcome = await clusterReleaseReader({ kubeconfig }).awaitRelease!(
      target("api-wait"),
      { image: ref("2"), settingsChecksum: "sum", waitsForPromotion: false, prePromotionAnalysis: false },
      { deadlineSeconds: 60, pollSeconds: 0, onProgress: (status) => shown.push(status) },
    );
    assert.equal(outcome.kind, "released");
    assert.equal(releasing.length, 0, "it read until the release was stable");
    assert.ok(requests.every((r) => r.method === "GET"));
    assert.deepEqual(shown, [
      "Rollout api-wait/api, release 222222222222: waiting for Argo Rollouts to take generation 2 of the Rollout",
      "Rollout api-wait/api, release 222222222222: Progressing",
    ]);
  });

  it("reads nothing in render mode", async () => {
    requests.length = 0;
    const reader = noClusterReader("render mode");
    assert.deepEqual(await reader(target("api-prod")), { kind: "unknown", reason: "render mode" });
    assert.equal(reader.awaitRelease, undefined, "nothing is applied, so nothing waits");
    assert.deepEqual(requests, []);
  });
});
