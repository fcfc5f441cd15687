// resources and probes: what each container needs to be scheduled sensibly and to be restarted
// or taken out of rotation when it stops answering.
import { containerLabel, containersOf, inPod, podViews, ports } from "../pods";
import { at, type Props } from "../read";
import { fails, key } from "./rule";

const RESOURCE_FIELDS = [
  ["requests", "cpu", "cpuRequest"],
  ["requests", "memory", "memoryRequest"],
  ["limits", "cpu", "cpuLimit"],
  ["limits", "memory", "memoryLimit"],
] as const;

/**
 * Containers without CPU and memory requests and limits: unschedulable guesses, noisy neighbours.
 * A container judged for what it sets fails only where it removes one.
 */
export function resources(type: string, props: Props): string[] {
  return podViews(type, props).flatMap((pod) =>
    containersOf(pod).flatMap((ref) => {
      const set = ref.container.resources;
      const missing = RESOURCE_FIELDS.filter(([group, resource]) =>
        fails(ref.partial, at(set, group, resource), () => true),
      );
      if (missing.length === 0) {
        return [];
      }
      return [
        inPod(
          pod,
          `${containerLabel(ref)} lacks ${missing.map(([group, what]) => `resources.${group}.${what}`).join(", ")}: ` +
            `set ${missing.length === 1 ? "it" : "them"} (for the app's containers: ` +
            `${missing.map(([, , name]) => key(name)).join(", ")})`,
        ),
      ];
    }),
  );
}

const PROBES = ["livenessProbe", "readinessProbe"] as const;
const PROBES_WHY =
  "so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and " +
  "/health/ready)";

/**
 * Containers that serve a port without liveness and readiness probes. A patch fails wherever it
 * removes a probe, since it cannot show whether the container it changes serves a port; a
 * container it lists is judged whole besides, as it may be one the patch adds.
 */
export function probes(type: string, props: Props): string[] {
  return podViews(type, props).flatMap((pod) =>
    // Init containers run to completion before the pod serves; probes do not apply to them.
    containersOf(pod)
      .filter((ref) => !ref.init)
      .flatMap((ref) => {
        const violations: string[] = [];
        const removed = pod.partial ? PROBES.filter((probe) => ref.container[probe] === null) : [];
        if (removed.length > 0) {
          violations.push(
            `${containerLabel(ref)}: the patch removes its ${removed.join(" and ")}: ` +
              `keep ${removed.length === 1 ? "it" : "them"} ${PROBES_WHY}`,
          );
        }
        const served = ports(ref.container);
        const missing = PROBES.filter(
          (probe) => ref.container[probe] === undefined || (ref.container[probe] === null && !pod.partial),
        );
        if (!ref.partial && served.length > 0 && missing.length > 0) {
          violations.push(
            `${containerLabel(ref)} serves port${served.length === 1 ? "" : "s"} ${served.join(", ")} without ` +
              `${missing.join(" or ")}: add ${missing.length === 1 ? "it" : "them"} ${PROBES_WHY}`,
          );
        }
        return violations.map((message) => inPod(pod, message));
      }),
  );
}
