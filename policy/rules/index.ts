// The production rules of api-stack, one module per topic, and the table the pack registers them
// from: each rule's policy name, description, default level and the environments it checks.
// pack.ts decides where each rule applies and how hard it blocks; tests call the rule functions
// directly.
import { admissionWebhooks, namespacePodSecurity, rbacEscalation } from "./cluster";
import { probes, resources } from "./containers";
import { explicitHosts, ingressTls, noExternalService } from "./exposure";
import { availability, topologySpread } from "./availability";
import { gatewayTls } from "./gateway";
import { hostNamespaces, hostPorts } from "./host";
import { prometheusScrape, recommendedLabels } from "./observability";
import { podSecurity } from "./pod-security";
import { blueGreenPromotion, imageDigest } from "./releases";
import { ALL, PROD, type Rule } from "./rule";
import { noSecretsInConfigMap, noSecretsInPods } from "./secrets";
import { visibleObjects } from "./visibility";
import { volumeTypes } from "./volumes";

export type { Level, Rule, StackResource, StackRule } from "./rule";

export const RULES: readonly Rule[] = [
  {
    kind: "resource",
    name: "pod-security",
    description:
      "Pods run as the restricted Pod Security level requires: non-root, read-only root filesystem, " +
      "no privilege escalation, not privileged, all capabilities dropped (NET_BIND_SERVICE alone added back), " +
      "seccomp RuntimeDefault, AppArmor and SELinux not loosened, /proc masked, safe sysctls only, " +
      "probes aimed at the pod, no Argo podSpecPatch.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: podSecurity,
  },
  {
    kind: "resource",
    name: "host-namespaces",
    description:
      "No pod shares the node's network, process or IPC namespace (hostNetwork, hostPID, " +
      "hostIPC) or runs as a Windows host process.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: hostNamespaces,
  },
  {
    kind: "resource",
    name: "volume-types",
    description:
      "Pods mount only the volume types of the restricted Pod Security level (no hostPath, nfs, gitRepo, ...), " +
      "and no PersistentVolume is a node's directory.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: volumeTypes,
  },
  {
    kind: "resource",
    name: "host-ports",
    description: "No container binds a hostPort.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: hostPorts,
  },
  {
    kind: "resource",
    name: "resources",
    description: "Every container sets CPU and memory requests and limits.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: resources,
  },
  {
    kind: "resource",
    name: "probes",
    description: "Containers that serve a port have liveness and readiness probes.",
    enforcementLevel: "mandatory",
    // Dev's in-cluster Postgres and Redis are probed for readiness only; see docs/policy.md.
    environments: PROD,
    check: probes,
  },
  {
    kind: "resource",
    name: "image-digest",
    description: "Images (of containers and image volumes) are pinned by digest, never by a tag or latest.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: imageDigest,
  },
  {
    kind: "resource",
    name: "no-external-service",
    description:
      "No Service of type LoadBalancer or NodePort and no Service externalIPs: the API is reached through its Ingress.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: noExternalService,
  },
  {
    kind: "resource",
    name: "ingress-tls",
    description: "Every Ingress host is served over TLS.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: ingressTls,
  },
  {
    kind: "stack",
    name: "gateway-tls",
    description:
      "Every Gateway API route (HTTPRoute, GRPCRoute) is served only by HTTPS Gateway listeners, " +
      "and those have a certificate.",
    enforcementLevel: "mandatory",
    environments: PROD,
    options: ["httpsListeners"],
    check: gatewayTls,
  },
  {
    kind: "resource",
    name: "explicit-hosts",
    description:
      "Ingresses and Gateway API routes name every host they answer for: no host-less rule, " +
      "default backend or wildcard.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: explicitHosts,
  },
  {
    kind: "resource",
    name: "no-secrets-in-configmap",
    description:
      "No secret-looking key (PASSWORD, SECRET, *_TOKEN, *_KEY, DSN, DATABASE_URL, ...), URL with a password, " +
      "or secret-looking setting of a file in a ConfigMap.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: noSecretsInConfigMap,
  },
  {
    kind: "resource",
    name: "no-secrets-in-pods",
    description:
      "No literal secret in a pod's spec: no environment variable set to a URL with a password or, " +
      "by a secret-looking name, to a literal value, and no URL with a password in a command line.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: noSecretsInPods,
  },
  {
    kind: "resource",
    name: "blue-green-promotion",
    description: "A blue-green Rollout auto-promotes only the release that config promoted.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: blueGreenPromotion,
  },
  {
    kind: "stack",
    name: "availability",
    description:
      "Serving workloads keep at least two replicas (HPA minReplicas) and have a PodDisruptionBudget that keeps some.",
    enforcementLevel: "mandatory",
    environments: PROD,
    options: ["minReplicas"],
    check: availability,
  },
  {
    kind: "resource",
    name: "visible-objects",
    description:
      "Every Kubernetes object is registered with Pulumi, where policies see it: no Helm Release, " +
      "whose objects only Helm sees, and no Argo Workflows resource template that writes objects.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: visibleObjects,
  },
  {
    kind: "resource",
    name: "rbac-escalation",
    description:
      "No RBAC grant to every caller or ServiceAccount, no cluster-admin, " +
      "admin or edit to a group or cluster-wide, and no role that grants every verb on every resource, escalate, " +
      "bind, impersonate, ServiceAccount tokens, nodes/proxy or (cluster-wide) Secrets.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: rbacEscalation,
  },
  {
    kind: "resource",
    name: "admission-webhooks",
    description:
      "Admission webhooks call a Service in the cluster, are not sent Secrets, and do not fail closed for kube-system.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: admissionWebhooks,
  },
  {
    kind: "resource",
    name: "namespace-pod-security",
    description: "Every Namespace enforces the restricted Pod Security level, at its latest version.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: namespacePodSecurity,
  },
  {
    kind: "resource",
    name: "recommended-labels",
    description: "Objects carry the recommended app.kubernetes.io labels.",
    enforcementLevel: "advisory",
    environments: ALL,
    check: recommendedLabels,
  },
  {
    kind: "resource",
    name: "prometheus-scrape",
    description: "API pods carry the prometheus.io scrape annotations.",
    enforcementLevel: "advisory",
    environments: ALL,
    check: prometheusScrape,
  },
  {
    kind: "resource",
    name: "topology-spread",
    description: "Multi-replica API workloads spread their pods over zones and nodes.",
    enforcementLevel: "advisory",
    environments: ALL,
    check: topologySpread,
  },
];
