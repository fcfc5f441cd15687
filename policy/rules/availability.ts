// availability (stack) and topology-spread (advisory): a serving workload survives a node drain
// and the loss of a node or a zone.
import { groupKind, isPatch, kindOf, kubeType, namespaceOf, selects } from "../kube";
import { containersOf, isApiPod, REPLICATED, workloadPod, type PodView } from "../pods";
import { at, objects, show, type Props } from "../read";
import { key, type StackContext, type StackResource, type StackViolation } from "./rule";

const HPA = "autoscaling/HorizontalPodAutoscaler";
const PDB = "policy/PodDisruptionBudget";

/** A budget that lets a drain evict every pod it selects protects nothing. */
function evictsAll(pdb: Props): string | undefined {
  const minAvailable = at(pdb, "spec", "minAvailable");
  if (minAvailable === 0 || minAvailable === "0%") {
    return `minAvailable: ${JSON.stringify(minAvailable)}`;
  }
  if (at(pdb, "spec", "maxUnavailable") === "100%") {
    return `maxUnavailable: "100%"`;
  }
  return undefined;
}

const replicasOf = (props: Props): unknown => at(props, "spec", "replicas");
const nameIn = (props: Props): string => show(at(props, "metadata", "name"));
const count = (value: unknown, otherwise: number): number => (typeof value === "number" ? value : otherwise);

/**
 * Whether a pod serves: a container (not an init container) declares a port other than one named
 * metrics, which only Prometheus scrapes (a Celery worker's serves no one).
 */
const serves = (pod: PodView | undefined): boolean =>
  pod !== undefined &&
  containersOf(pod).some((ref) => !ref.init && objects(ref.container.ports).some((port) => port.name !== "metrics"));

/**
 * Serving workloads (a Deployment, StatefulSet, ReplicaSet or Rollout with a container that
 * serves a port) must survive a node drain: at least `minReplicas` pods (the HPA's floor, or the
 * replica count without one) and a PodDisruptionBudget selecting them that keeps some. Patches:
 * one that lowers an HPA's floor or a workload's replicas (a serving one, by its own template or
 * the stack's object it patches), or lets a budget evict everything, fails; none is blamed for a
 * budget or an autoscaler it does not create.
 */
export function availability(
  resources: StackResource[],
  { minReplicas, registered = resources }: Pick<StackContext, "minReplicas" | "registered">,
): StackViolation[] {
  const violations: StackViolation[] = [];
  const hpas = registered.filter((r) => groupKind(r.type) === HPA);
  const pdbs = registered.filter((r) => groupKind(r.type) === PDB && !isPatch(r.type));

  for (const hpa of resources.filter((r) => groupKind(r.type) === HPA)) {
    const set = at(hpa.props, "spec", "minReplicas");
    if (isPatch(hpa.type) && set === undefined) {
      continue;
    }
    // Kubernetes defaults minReplicas to 1.
    const floor = count(set, 1);
    if (floor < minReplicas) {
      violations.push({
        urn: hpa.urn,
        message:
          `${kindOf(hpa.type)} ${nameIn(hpa.props)} may scale down to ${floor} replica${floor === 1 ? "" : "s"}: ` +
          `set ${key("hpaMinReplicas")} to ${minReplicas} or more`,
      });
    }
  }

  for (const pdb of resources.filter((r) => groupKind(r.type) === PDB)) {
    const setting = evictsAll(pdb.props);
    if (setting) {
      violations.push({
        urn: pdb.urn,
        message:
          `${kindOf(pdb.type)} ${nameIn(pdb.props)} lets a node drain evict every pod it selects (${setting}): ` +
          "set maxUnavailable below the replica count (the program's Scaling component sets it from " +
          `${key("pdbMaxUnavailable")})`,
      });
    }
  }

  for (const workload of resources.filter((r) => REPLICATED.has(groupKind(r.type) ?? ""))) {
    const patch = isPatch(workload.type);
    const kind = kubeType(workload.type)?.kind;
    const name = at(workload.props, "metadata", "name");
    const namespace = namespaceOf(workload.props);
    const same = (r: StackResource) => groupKind(r.type) === groupKind(workload.type) && !isPatch(r.type);
    const patched = patch
      ? registered.find(
          (r) => same(r) && at(r.props, "metadata", "name") === name && namespaceOf(r.props) === namespace,
        )
      : undefined;
    const pod = workloadPod(workload.type, workload.props);
    const serving = serves(pod) || (patched !== undefined && serves(workloadPod(patched.type, patched.props)));
    if (!serving || (patch && replicasOf(workload.props) === undefined)) {
      continue;
    }
    const scaled = hpas.some(
      (hpa) =>
        namespaceOf(hpa.props) === namespace &&
        at(hpa.props, "spec", "scaleTargetRef", "kind") === kind &&
        at(hpa.props, "spec", "scaleTargetRef", "name") === name,
    );
    const replicas = count(replicasOf(workload.props), 1);
    if (!scaled && replicas < minReplicas) {
      violations.push({
        urn: workload.urn,
        message:
          `${kindOf(workload.type)} ${show(name)} runs ${replicas} replica${replicas === 1 ? "" : "s"} without an ` +
          `autoscaler: set ${key("replicas")} to ${minReplicas} or more (or enable ${key("hpaEnabled")} with ` +
          `${key("hpaMinReplicas")} >= ${minReplicas})`,
      });
    }
    const budgeted = pdbs.some(
      (pdb) =>
        namespaceOf(pdb.props) === namespace && selects(at(pdb.props, "spec", "selector"), at(pod?.metadata, "labels")),
    );
    if (!patch && !budgeted) {
      violations.push({
        urn: workload.urn,
        message:
          `${kindOf(workload.type)} ${show(name)} has no PodDisruptionBudget, so a node drain may evict all its ` +
          "pods at once: add one whose selector matches its pod labels (the program's Scaling component does, " +
          `sized by ${key("pdbMaxUnavailable")})`,
      });
    }
  }
  return violations;
}

/** Multi-replica API workloads whose pods may all land in one zone or on one node. */
export function topologySpread(type: string, props: Props): string[] {
  if (isPatch(type)) {
    return [];
  }
  const pod = workloadPod(type, props);
  // A workload that names no count leaves it to an autoscaler, which may run many.
  const replicas = replicasOf(props);
  if (!pod || !isApiPod(pod) || (typeof replicas === "number" && replicas <= 1)) {
    return [];
  }
  if (Array.isArray(pod.spec.topologySpreadConstraints) && pod.spec.topologySpreadConstraints.length > 0) {
    return [];
  }
  return [
    `${kindOf(type)} runs ${replicas === undefined ? "autoscaled" : show(replicas)} API replicas without ` +
      "topologySpreadConstraints: spread them over topology.kubernetes.io/zone and kubernetes.io/hostname so one " +
      `zone or node failure cannot take them all (the program does when ${key("replicas")} or ` +
      `${key("hpaMaxReplicas")} is above 1)`,
  ];
}
