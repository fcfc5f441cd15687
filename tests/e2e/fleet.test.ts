// Two APIs in one program and one stack, both blue-green, on the real node: each reads its own
// live release from the cluster, so one is promoted and later rolled back while the other waits
// in preview and is then promoted, and users of each host see only that API's active release.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { clusterReleaseReader } from "../../components/api/cluster-reader";
import type { DeliveryConfig } from "../../components/api/delivery";
import { ApiStack } from "../../components/api-stack";
import { loadStackConfig } from "../../config";
import { localShape } from "../../tools/automation";
import { buildReleases } from "../support/releases";
import {
  destroyStack,
  eventually,
  kubectlJson,
  newStack,
  openApiVersion,
  progress,
  releaseId,
  viaIngress,
} from "./env";

const SECRETS = {
  secretKey: "e2e-fleet-secret-key-0123456789abcdef0123456789abcdef0123",
  devPostgresPassword: "e2e-postgres-password",
  // Both apps require one (API_TOKENS); this test reads only /health and /openapi.json, which need none.
  apiTokens: "e2e-fleet-api-token-0123456789abcdef0123456789",
};
const APIS = ["orders", "billing"] as const;
type ApiName = (typeof APIS)[number];

/** What one API of the program deploys in the next `up`. */
interface Plan {
  image: string;
  version: string;
  promote?: string;
  rollbackTo?: string;
}

const namespaceOf = (api: ApiName) => `api-fleet-${api}`;
const hostOf = (api: ApiName) => `${api}.fleet.localhost`;

/** The program under test: the stack's config once, one ApiStack per API with its own release plan. */
function fleetProgram(plans: Record<ApiName, Plan>) {
  return async () => {
    const { args, cluster } = await loadStackConfig();
    const readRelease = clusterReleaseReader(cluster);
    const delivery = args.delivery as Extract<DeliveryConfig, { strategy: "blueGreen" }>;
    return Object.fromEntries(
      APIS.map((api) => {
        const plan = plans[api];
        const stack = new ApiStack(api, {
          ...args,
          app: { ...args.app, appName: api, appVersion: plan.version },
          namespace: namespaceOf(api),
          image: { kind: "prebuilt", ref: plan.image },
          rollbackTo: plan.rollbackTo,
          delivery: { ...delivery, promote: plan.promote },
          ingress: { ...args.ingress!, host: hostOf(api) },
          readRelease,
        });
        return [api, stack.release];
      }),
    );
  };
}

/** The app's version from its OpenAPI document (development only): which release answered. */
async function servedVersion(api: ApiName): Promise<string | undefined> {
  const response = await viaIngress(hostOf(api), "/openapi.json");
  return response.status === 200 ? openApiVersion(response.body) : undefined;
}

describe("two APIs in one stack on the real node", function () {
  this.timeout(30 * 60_000);
  let stack: Stack;
  let v1: string, v2: string;

  async function up(plans: Record<ApiName, Plan>) {
    stack.workspace.program = fleetProgram(plans);
    const result = await stack.up({ onOutput: () => undefined });
    assert.equal(result.summary.result, "succeeded");
    return Object.fromEntries(APIS.map((api) => [api, result.outputs[api].value])) as Record<
      ApiName,
      Record<string, string | undefined>
    >;
  }

  /** Both hosts answer with the expected versions (the ingress follows Argo's switch within seconds). */
  async function serving(expected: Record<ApiName, string>) {
    await eventually(`each host serving ${JSON.stringify(expected)}`, 60, async () => {
      const seen = Object.fromEntries(await Promise.all(APIS.map(async (api) => [api, await servedVersion(api)])));
      return APIS.every((api) => seen[api] === expected[api]) ? seen : undefined;
    });
  }

  before(async () => {
    [v1, v2] = buildReleases(2);
    stack = await newStack(
      "e2efleet",
      {
        ...localShape("dev", v1, SECRETS),
        strategy: "blueGreen",
        hpaEnabled: false,
        replicas: 1,
        workerEnabled: false,
      },
      Object.keys(SECRETS),
    );
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("each API's first release becomes active", async () => {
    progress("fleet: first release of both APIs");
    const release = await up({ orders: { image: v1, version: "1.0.1" }, billing: { image: v1, version: "1.0.1" } });
    assert.deepEqual([release.orders.active, release.billing.active], [v1, v1]);
    await serving({ orders: "1.0.1", billing: "1.0.1" });
  });

  it("a new release of both waits in preview; promoting one API promotes only that one", async () => {
    progress("fleet: both APIs get a new release, which waits");
    const next = { image: v2, version: "1.0.2" };
    let release = await up({ orders: next, billing: next });
    assert.deepEqual([release.orders.preview, release.billing.preview], [v2, v2]);
    assert.deepEqual([release.orders.active, release.billing.active], [v1, v1]);

    progress("fleet: promote orders only");
    release = await up({ orders: { ...next, promote: releaseId(v2) }, billing: next });
    assert.deepEqual([release.orders.active, release.orders.previous], [v2, v1]);
    assert.deepEqual(
      [release.billing.active, release.billing.preview],
      [v1, v2],
      "billing still waits for its own promotion",
    );
    assert.equal(kubectlJson("get", "rollout", "billing", "-n", namespaceOf("billing")).status.phase, "Paused");
    await serving({ orders: "1.0.2", billing: "1.0.1" });
  });

  it("one API rolls back while the other is promoted, in the same `up`", async () => {
    progress("fleet: orders rolls back, billing is promoted");
    const release = await up({
      orders: { image: v2, version: "1.0.1", rollbackTo: v1 },
      billing: { image: v2, version: "1.0.2", promote: releaseId(v2) },
    });
    assert.deepEqual([release.orders.active, release.billing.active], [v1, v2]);
    await serving({ orders: "1.0.1", billing: "1.0.2" });
  });
});
