// An HPA that really scales, on the real node: metrics-server reads the API pods' CPU from the
// kubelet, a bounded load through the ingress raises it, the HPA adds pods, and once the load
// stops it takes them away again; the same while a blue-green release waits in preview, where the
// HPA scales the Rollout. An update while scaled out leaves the count alone: the HPA owns it.
//
// Behaviour settings of these stacks, so that each test stays bounded: the scale-up window is 0 s
// (pods are added at the HPA's next sync) and the scale-down window 30 s instead of the default
// 300 s; the rates are the program's own (at most double per minute up, a tenth of the pods but at
// least one per minute down). The default windows are measured by `npm run bench:autoscaling`.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { localShape, type ConfigValues } from "../../tools/automation";
import { cpuLoad, hpaStatus, servingPods, until, type ScaledApi } from "../support/autoscaling";
import { explain } from "../support/load";
import { changes, destroyStack, kubectlJson, newStack, progress, upRelease } from "./env";
import { buildReleases } from "../support/releases";

const BEHAVIOUR = { hpaScaleUpStabilizationSeconds: 0, hpaScaleDownStabilizationSeconds: 30 };
/** Requests per second to /openapi.json: well above 70 % of one pod's 100m CPU request. */
const RATE = 60;
const SECRETS = {
  secretKey: "e2e-hpa-secret-key-0123456789abcdef0123456789abcdef01",
  devPostgresPassword: "e2e-postgres-password",
  apiTokens: "e2e-hpa-api-token-0123456789abcdef012345",
};

/** The dev stack's shape (HPA from 1 to 3 pods at 70 % of 100m CPU) with the behaviour above. */
function scalingStack(name: string, image: string, extra: ConfigValues = {}): Promise<Stack> {
  return newStack(
    name,
    {
      ...localShape("dev", image, SECRETS),
      ...BEHAVIOUR,
      namespace: `api-${name}`,
      ingressHost: `${name}.e2e.localhost`,
      workerEnabled: false,
      // The load comes from one client address.
      rateLimitPerMinute: 100_000,
      ...extra,
    },
    Object.keys(SECRETS),
  );
}

/**
 * Loads the API until the HPA has added a pod and it is Ready, runs `while` (an update) while it
 * is scaled out, then stops the load and waits until the HPA is back at one pod.
 */
async function scaleOutAndIn(api: ScaledApi, stack: Stack, label: string): Promise<void> {
  await until(
    "metrics-server's first CPU reading of the API",
    180,
    () => hpaStatus(api.namespace).cpuPercent !== undefined,
  );
  assert.deepEqual(servingPods(api), { pods: 1, ready: 1 }, "one pod before the load");
  progress(`${label}: ${RATE} requests/s until a second pod is Ready`);
  const load = cpuLoad(api, RATE, 600);
  const started = Date.now();
  const out = await until("a second Ready pod", 300, () => servingPods(api).ready >= 2);
  const scaled = hpaStatus(api.namespace);
  const after = ((out - started) / 1000).toFixed(0);
  progress(`${label}: scaled out to ${scaled.desired} after ${after} s, at ${scaled.cpuPercent} % of the CPU request`);

  const update = await stack.up({ onOutput: () => undefined });
  assert.deepEqual(changes(update.summary.resourceChanges), [], JSON.stringify(update.summary.resourceChanges));
  assert.ok(servingPods(api).pods >= 2, "the update left the HPA's count alone");

  const traffic = await load.stop();
  assert.ok(traffic.ok > 0, explain(traffic));
  const stopped = Date.now();
  await until("the HPA back at one pod", 300, () => {
    const hpa = hpaStatus(api.namespace);
    return hpa.desired === 1 && hpa.current === 1 && servingPods(api).pods === 1;
  });
  progress(`${label}: back at one pod ${((Date.now() - stopped) / 1000).toFixed(0)} s after the load stopped`);
}

describe("the HPA scales the API out under load and back in (real node, metrics-server)", function () {
  this.timeout(30 * 60_000);
  const stacks: Stack[] = [];
  let v1: string, v2: string;

  before(() => {
    [v1, v2] = buildReleases(2);
  });

  after(async () => {
    for (const stack of stacks) {
      await destroyStack(stack);
    }
  });

  it("a Deployment: out under a CPU load, unchanged by an update, back in when the load stops", async () => {
    const stack = await scalingStack("e2ehpa", v1);
    stacks.push(stack);
    await upRelease(stack);
    const hpa = kubectlJson("get", "hpa", "api", "-n", "api-e2ehpa");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "api" });
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 30);
    await scaleOutAndIn({ namespace: "api-e2ehpa", host: "e2ehpa.e2e.localhost", image: v1 }, stack, "hpa");
  });

  it("a Rollout whose next release waits in preview: the active release scales, the preview still waits", async () => {
    const stack = await scalingStack("e2ehpabg", v1, { strategy: "blueGreen" });
    stacks.push(stack);
    await upRelease(stack);
    const waiting = await upRelease(stack, { imageRef: v2 });
    assert.deepEqual([waiting.active, waiting.preview], [v1, v2]);
    const hpa = kubectlJson("get", "hpa", "api", "-n", "api-e2ehpabg");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" });
    await scaleOutAndIn(
      { namespace: "api-e2ehpabg", host: "e2ehpabg.e2e.localhost", image: v1 },
      stack,
      "hpa, blue-green",
    );
    const release = (await stack.outputs()).release.value as Record<string, string>;
    assert.deepEqual([release.active, release.preview], [v1, v2], "the release still waits in preview");
  });
});
