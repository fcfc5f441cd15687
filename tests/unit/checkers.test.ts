// Which findings of the independent manifest checkers the program's objects explain, and where:
// kube-score reads `kube-score/ignore` on an object or its pod template (components/checkers.ts).
// scripts/check-manifests runs the real kube-score and Checkov on the prod stack's manifests.
import { strict as assert } from "node:assert";
import { EXPLAINED, KUBE_SCORE_IGNORE, KUBE_SCORE_REASON } from "../../components/checkers";
import { asManifest, prodInput, runProgram, withConfig, type RunResult } from "../support/harness";
import { withCosign } from "../support/cosign";

/** Every kube-score check an object (or its pod template) skips, by "Kind/name". */
function ignored(run: RunResult): Record<string, string> {
  const found: Record<string, string> = {};
  for (const manifest of run.resources.filter((r) => r.type.startsWith("kubernetes:")).map(asManifest)) {
    for (const annotations of [manifest.metadata?.annotations, manifest.spec?.template?.metadata?.annotations]) {
      if (annotations?.[KUBE_SCORE_IGNORE]) {
        assert.ok(annotations[KUBE_SCORE_REASON], `${manifest.kind}/${manifest.metadata.name} says why`);
        const name = manifest.metadata.name.replace(/-[a-f0-9]{12}-[a-f0-9]{8}$/, "");
        found[`${manifest.kind}/${name}`] = annotations[KUBE_SCORE_IGNORE];
      }
    }
  }
  return found;
}

describe("manifest checkers' findings explained on the objects (mocks)", () => {
  withCosign();
  const pull = EXPLAINED.pullPolicy.check;

  it("prod (blue-green): the pull policy, and the selectors of what Argo Rollouts makes", async () => {
    const run = await runProgram(prodInput(), { stack: "prod" });
    assert.deepEqual(ignored(run), {
      "Rollout/api": pull,
      "Deployment/api-worker": pull,
      "Job/api-migration": pull,
      "Job/api-backup": pull,
      "Service/api": EXPLAINED.serviceTargets.check,
      "Service/api-preview": EXPLAINED.serviceTargets.check,
      "HorizontalPodAutoscaler/api": EXPLAINED.hpaTarget.check,
      "NetworkPolicy/api-allow-ingress": EXPLAINED.policyTargets.check,
      "NetworkPolicy/api-smoke-allow-egress": EXPLAINED.smokeTargets.check,
    });
  });

  it("a rolling Deployment's selectors match pods kube-score sees: nothing to explain there", async () => {
    const run = await runProgram(withConfig(prodInput(), { strategy: "rolling" }), { stack: "prod" });
    assert.deepEqual(ignored(run), {
      "Deployment/api": pull,
      "Deployment/api-worker": pull,
      "Job/api-migration": pull,
      "Job/api-backup": pull,
    });
  });

  it("skips no Checkov check: it reports nothing on the prod stack", async () => {
    const run = await runProgram(prodInput(), { stack: "prod" });
    const skips = run.resources
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map(asManifest)
      .flatMap((m) => Object.keys({ ...m.metadata?.annotations, ...m.spec?.template?.metadata?.annotations }))
      .filter((key) => key.startsWith("checkov.io/"));
    assert.deepEqual(skips, []);
  });
});
