// `exposure: gateway` for real: HTTPRoutes attached to the platform's Gateway (testbed/addons:
// Gateway ingress/platform, served by Traefik's Gateway API provider on 127.0.0.1:80/443, its
// HTTPS listener's certificate issued by cert-manager from the local CA), a blue-green release
// whose preview has a host of its own, and promotion moving the main host to the new release.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { localShape, type ConfigValues } from "../../tools/automation";
import { buildReleases } from "../support/releases";
import {
  destroyStack,
  eventually,
  kubectlJson,
  newStack,
  openApiVersion,
  progress,
  releaseId,
  upRelease,
  viaIngress,
} from "./env";

const SECRETS = {
  secretKey: "e2e-gateway-secret-key-0123456789abcdef0123456789abcdef01",
  devPostgresPassword: "e2e-postgres-password",
  // Both apps require one (API_TOKENS); this test reads only /health and /openapi.json, which need none.
  apiTokens: "e2e-gateway-api-token-0123456789abcdef0123456789",
};
const NAMESPACE = "api-e2egateway";
// The HTTPS listener's certificate is for *.gateway.localhost; a wildcard covers one label.
const HOST = "e2e.gateway.localhost";
const PREVIEW_HOST = "e2e-preview.gateway.localhost";

/** The app's version from its OpenAPI document over HTTPS (development only), or the status. */
async function versionOver(host: string): Promise<string> {
  const response = await viaIngress(host, "/openapi.json", { tls: true });
  return response.status === 200 ? String(openApiVersion(response.body)) : `HTTP ${response.status}`;
}

describe("exposure through the platform's Gateway on the real node", function () {
  this.timeout(20 * 60_000);
  let stack: Stack;
  let v1: string, v2: string;

  const up = (values: ConfigValues = {}) => upRelease(stack, values);

  before(async () => {
    [v1, v2] = buildReleases(2);
    stack = await newStack(
      "e2egateway",
      {
        ...localShape("dev", v1, SECRETS),
        namespace: NAMESPACE,
        exposure: "gateway",
        gatewayName: "platform",
        gatewayNamespace: "ingress",
        ingressHost: HOST,
        previewHost: PREVIEW_HOST,
        ingressTls: true,
        strategy: "blueGreen",
        hpaEnabled: false,
        replicas: 1,
        workerEnabled: false,
        appVersion: "1.0.1",
      },
      Object.keys(SECRETS),
    );
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("attaches routes the Gateway accepts, serves HTTPS with the listener's certificate, redirects HTTP", async () => {
    progress("gateway: first release");
    const release = await up();
    assert.equal(release.active, v1);
    const routes = kubectlJson("get", "httproutes", "-n", NAMESPACE).items as any[];
    assert.ok(routes.length >= 2, "a route for the host and one for the preview host");
    for (const route of routes) {
      const accepted = route.status.parents.flatMap((p: any) => p.conditions).find((c: any) => c.type === "Accepted");
      assert.equal(accepted?.status, "True", `${route.metadata.name} accepted by the Gateway`);
    }
    // viaIngress verifies the certificate against the local CA for the host.
    await eventually("HTTPS on the Gateway", 60, async () =>
      (await versionOver(HOST)) === "1.0.1" ? true : undefined,
    );
    const plain = await viaIngress(HOST, "/health/ready");
    assert.ok([301, 302, 307, 308].includes(plain.status), `plain HTTP answered ${plain.status}`);
    assert.equal(plain.headers.location, `https://${HOST}/health/ready`);
  });

  it("a new release waits in preview, reachable on the preview host only", async () => {
    progress("gateway: second release waits in preview");
    const release = await up({ imageRef: v2, appVersion: "1.0.2" });
    assert.deepEqual([release.active, release.preview], [v1, v2]);
    await eventually("the preview host on the new release", 60, async () =>
      (await versionOver(PREVIEW_HOST)) === "1.0.2" ? true : undefined,
    );
    assert.equal(await versionOver(HOST), "1.0.1", "users stay on the active release");
  });

  it("promotion moves the main host to the new release", async () => {
    progress("gateway: promote");
    const release = await up({ promote: releaseId(v2) });
    assert.equal(release.active, v2);
    await eventually("the main host on the new release", 60, async () =>
      (await versionOver(HOST)) === "1.0.2" ? true : undefined,
    );
  });
});
