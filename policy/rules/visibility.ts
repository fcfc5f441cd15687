// visible-objects: every Kubernetes object is registered with Pulumi, where the policies see it.
import { HELM_RELEASE } from "../kube";
import { workflowTemplatesOf } from "../pods";
import { at, show, text, type Props } from "../read";

/** Argo Workflows resource actions that only read or delete, and so write no object. */
const READ_OR_DELETE = new Set(["get", "delete"]);

/**
 * Helm releases, which install objects that Pulumi never registers, and Argo Workflows resource
 * templates that write objects from their own manifests when the workflow runs.
 */
export function visibleObjects(type: string, props: Props): string[] {
  if (type === HELM_RELEASE) {
    return [
      `Helm Release of chart ${show(at(props, "chart"))} installs objects that only Helm sees, ` +
        "so no policy can check them: install the chart with kubernetes.helm.v4.Chart, " +
        "which registers each object, or exempt this release in the visible-objects policy config " +
        "(docs/policy.md, Exemptions)",
    ];
  }
  return workflowTemplatesOf(type, props).flatMap(({ template, where }) => {
    const action = text(at(template, "resource", "action"));
    return action === undefined || READ_OR_DELETE.has(action)
      ? []
      : [
          `${where}.resource writes objects from its own manifest (action ${action}) when the workflow runs, ` +
            "which no policy sees: register those objects with Pulumi, where the rules check them",
        ];
  });
}
