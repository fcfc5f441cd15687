// Pods sent to the simulated (kwok) node, where they are Ready at once without running: for the
// benchmarks that measure the engine apart from the node, and the upgrade test, whose earlier
// code writes settings its own images never accepted.
import { execFileSync } from "node:child_process";
import { kubectlOf, listObjects } from "./bench";

/**
 * Runs `run` with the pods of every namespace whose name starts with `namespacePrefix` sent to the
 * simulated node, where they are Ready at once: a MutatingAdmissionPolicy binds them to it as they
 * are created, and is deleted afterwards. Nothing else moves: the real node stays
 * schedulable and the simulated one tainted, so what else runs on the cluster (a test suite) is
 * untouched.
 */
export async function onSimulatedNode<T>(
  kubeconfig: string,
  namespacePrefix: string,
  run: () => T | Promise<T>,
): Promise<T> {
  const kubectl = kubectlOf(kubeconfig);
  const simulated = listObjects(kubeconfig, "nodes", "-l", "type=kwok").items[0]?.metadata.name;
  if (!simulated) {
    throw new Error("no simulated node: testbed/local-env up makes one (LOCAL_ENV_KWOK_NODES, default 1)");
  }
  const name = `simulated-node-${namespacePrefix}`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingAdmissionPolicy",
    metadata: { name },
    spec: {
      matchConstraints: {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      },
      matchConditions: [{ name: "namespace", expression: `request.namespace.startsWith("${namespacePrefix}")` }],
      failurePolicy: "Fail",
      reinvocationPolicy: "Never",
      mutations: [
        {
          // The pod is bound to the node by name, past the scheduler and so past the node's taint
          // (an apply configuration may not set the atomic nodeSelector and tolerations, and this
          // API server fails on a JSON Patch that sets a map).
          patchType: "JSONPatch",
          jsonPatch: { expression: `[JSONPatch{op: "add", path: "/spec/nodeName", value: "${simulated}"}]` },
        },
      ],
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingAdmissionPolicyBinding",
    metadata: { name },
    spec: { policyName: name },
  };
  const probe = `${namespacePrefix}-probe`;
  const apply = (object: object) =>
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
      input: JSON.stringify(object),
      stdio: ["pipe", "ignore", "inherit"],
    });
  try {
    apply(policy);
    apply(binding);
    // The API server takes a policy up within a second or so: a pod in a namespace of the prefix,
    // created as a dry run, shows when it does.
    kubectl("create", "namespace", probe);
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "probe", namespace: probe } };
    const podSpec = { containers: [{ name: "probe", image: "probe" }] };
    for (let attempt = 0; ; attempt++) {
      const created = execFileSync(
        "kubectl",
        ["--kubeconfig", kubeconfig, "create", "--dry-run=server", "-o", "json", "-f", "-"],
        { input: JSON.stringify({ ...pod, spec: podSpec }), encoding: "utf8", stdio: ["pipe", "pipe", "inherit"] },
      );
      if ((JSON.parse(created) as { spec: { nodeName?: string } }).spec.nodeName === simulated) {
        break;
      }
      if (attempt === 30) {
        throw new Error(`MutatingAdmissionPolicy ${name} did not take effect within 30 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return await run();
  } finally {
    kubectl("delete", "--ignore-not-found", "--wait=false", "namespace", probe);
    kubectl("delete", "--ignore-not-found", "mutatingadmissionpolicybinding", name);
    kubectl("delete", "--ignore-not-found", "mutatingadmissionpolicy", name);
  }
}
