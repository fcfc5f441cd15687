// What independent manifest checkers (kube-score, Checkov) flag on objects this program builds so
// on purpose, said on the objects, where the checker reads it: kube-score skips the checks an
// object's `kube-score/ignore` annotation lists, and the reasons stand beside them. Checkov flags
// nothing on the prod stack (scripts/check-manifests runs both; docs/hardening.md has the list).

/** The kube-score checks the program's objects fail by design, and why each is right as it is. */
export const EXPLAINED = {
  pullPolicy: {
    check: "container-image-pull-policy",
    why: "images are pinned by digest, so IfNotPresent runs exactly the image asked for without a registry round trip",
  },
  serviceTargets: {
    check: "service-targets-pod",
    why: "the selected pods are an Argo Rollout's, which kube-score does not read",
  },
  hpaReplicas: {
    check: "deployment-targeted-by-hpa-does-not-have-replicas-configured",
    why: "the count is the HPA's minReplicas, sent when the Deployment is created, never in an update (ignoreChanges)",
  },
  hpaTarget: {
    check: "horizontalpodautoscaler-has-target",
    why: "the target is an Argo Rollout, which kube-score does not read",
  },
  policyTargets: {
    check: "networkpolicy-targets-pod",
    why: "the selected pods are an Argo Rollout's, which kube-score does not read",
  },
  smokeTargets: {
    check: "networkpolicy-targets-pod",
    why: "the selected pods are the smoke test's, of a Job Argo Rollouts makes at each release",
  },
} as const;

export const KUBE_SCORE_IGNORE = "kube-score/ignore";
export const KUBE_SCORE_REASON = "api-stack.io/kube-score-ignore-reason";

/** The annotations that tell kube-score to skip these checks, and a reader why. */
export function explained(...findings: (keyof typeof EXPLAINED)[]): Record<string, string> {
  return {
    [KUBE_SCORE_IGNORE]: findings.map((finding) => EXPLAINED[finding].check).join(","),
    [KUBE_SCORE_REASON]: findings.map((finding) => `${EXPLAINED[finding].check}: ${EXPLAINED[finding].why}`).join("; "),
  };
}
