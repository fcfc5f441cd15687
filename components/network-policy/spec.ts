// Pure builders for the namespace's NetworkPolicies: deny everything in and out, then allow
// exactly the paths the app needs. Pods are selected by the naming's stable labels; peers in
// other namespaces by the namespace's own name label and the peer pods' labels.
import type * as k8s from "@pulumi/kubernetes";
import { explained } from "../checkers";
import type { Component, Labels, Naming } from "../names";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Port = k8s.types.input.networking.v1.NetworkPolicyPort;

/** Pods in another namespace, by that namespace's name and the pods' labels. */
export interface PeerPods {
  namespace: string;
  podLabels: Labels;
}

/** A destination outside the cluster's pods (a managed database, a collector, Sentry), by CIDR and TCP ports. */
export interface ExternalEndpoint {
  cidr: string;
  ports: number[];
}

export interface NetworkPolicyConfig {
  /** The pods that route user traffic to the API: the ingress or Gateway controller. */
  ingressController: PeerPods;
  /** The pods that scrape the API's metrics port: Prometheus. */
  metricsScraper: PeerPods;
  /** Pods that call the API's health endpoint during a release (Argo Rollouts' web analysis). Unset: none. */
  releaseAnalysis?: PeerPods;
  /** Where app pods may connect beyond DNS and the in-namespace dev services. */
  egress: ExternalEndpoint[];
}

export interface NetworkPolicyInput {
  naming: Naming;
  config: NetworkPolicyConfig;
  /** The API container's named ports (the pod's `http` and `metrics`). */
  ports: { http: string; metrics: string };
  /** The dev stack's in-namespace Postgres and Redis: reachable from the app, on their ports. Unset: none. */
  devServices?: { postgres: number; redis: number };
  /** The Celery worker runs: the scraper reaches its metrics port too. */
  worker?: boolean;
  /** The blue-green smoke test runs: its Job's pods reach DNS and the API's port. */
  smokeTest?: boolean;
}

export interface NetworkPolicyObject {
  /** What the policy is for, unique in a stack: `default-deny`, `allow-ingress`, `postgres-allow-ingress`... */
  role: string;
  /** Said to the manifest checkers (components/checkers.ts). */
  annotations?: Record<string, string>;
  /** metadata.name */
  name: string;
  /** The component whose labels the object carries. */
  component: Component;
  spec: NetworkPolicySpec;
}

export const DEFAULT_DENY = "default-deny";

/** Components that run the app's image (and the backup): every one talks to the database. */
const APP_COMPONENTS: Component[] = ["api", "worker", "migration", "backup"];

/** Cluster DNS as nearly every distribution runs it: CoreDNS pods labelled k8s-app=kube-dns in kube-system. */
export const CLUSTER_DNS: PeerPods = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } };

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

function peer(pods: PeerPods): Peer {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: pods.namespace } },
    podSelector: { matchLabels: pods.podLabels },
  };
}

const tcp = (port: number | string): Port => ({ protocol: "TCP", port });

const DNS_EGRESS = {
  to: [peer(CLUSTER_DNS)],
  // Named ports match the DNS pods' own container ports (CoreDNS names them dns and dns-tcp
  // whatever port it listens on); 53 covers DNS pods that leave them unnamed.
  ports: [
    { protocol: "UDP", port: "dns" },
    { protocol: "TCP", port: "dns-tcp" },
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

/** The app's pods, every component of it (the selector's name and instance labels, any of APP_COMPONENTS). */
function appPods(naming: Naming, components: Component[] = APP_COMPONENTS) {
  const { "app.kubernetes.io/component": _component, ...app } = naming.selector("api");
  return {
    matchLabels: app,
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: components }],
  };
}

export function networkPolicies(input: NetworkPolicyInput): NetworkPolicyObject[] {
  const { naming, config, ports, devServices } = input;
  const smokePods = { podSelector: { matchLabels: naming.selector("smoke") } };
  const policies: NetworkPolicyObject[] = [
    {
      // Every pod in the namespace, in both directions: what no policy below allows is refused.
      role: DEFAULT_DENY,
      name: naming.name("api", "default-deny"),
      component: "api",
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      role: "allow-ingress",
      name: naming.name("api", "allow-ingress"),
      component: "api",
      // With a Rollout (the only stacks with a release analysis peer) the API pods are its own.
      ...(config.releaseAnalysis ? { annotations: explained("policyTargets") } : {}),
      spec: {
        podSelector: { matchLabels: naming.selector("api") },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              peer(config.ingressController),
              ...(config.releaseAnalysis ? [peer(config.releaseAnalysis)] : []),
              ...(input.smokeTest ? [smokePods] : []),
            ],
            ports: [tcp(ports.http)],
          },
          { from: [peer(config.metricsScraper)], ports: [tcp(ports.metrics)] },
        ],
      },
    },
    {
      role: "allow-egress",
      name: naming.name("api", "allow-egress"),
      component: "api",
      spec: {
        podSelector: appPods(naming),
        policyTypes: ["Egress"],
        egress: [
          DNS_EGRESS,
          ...(devServices
            ? [
                {
                  to: [{ podSelector: { matchLabels: naming.selector("postgres") } }],
                  ports: [tcp(devServices.postgres)],
                },
                { to: [{ podSelector: { matchLabels: naming.selector("redis") } }], ports: [tcp(devServices.redis)] },
              ]
            : []),
          ...config.egress.map((endpoint) => ({
            to: [{ ipBlock: { cidr: endpoint.cidr } }],
            ports: endpoint.ports.map(tcp),
          })),
        ],
      },
    },
  ];
  if (input.worker) {
    policies.push({
      role: "worker-allow-ingress",
      name: naming.name("worker", "allow-ingress"),
      component: "worker",
      spec: {
        podSelector: { matchLabels: naming.selector("worker") },
        policyTypes: ["Ingress"],
        ingress: [{ from: [peer(config.metricsScraper)], ports: [tcp(ports.metrics)] }],
      },
    });
  }
  if (input.smokeTest) {
    // The smoke test walks a user flow through the preview Service, and talks to nothing else.
    policies.push({
      role: "smoke-allow-egress",
      name: naming.name("smoke", "allow-egress"),
      component: "smoke",
      annotations: explained("smokeTargets"),
      spec: {
        podSelector: smokePods.podSelector,
        policyTypes: ["Egress"],
        egress: [
          DNS_EGRESS,
          { to: [{ podSelector: { matchLabels: naming.selector("api") } }], ports: [tcp(ports.http)] },
        ],
      },
    });
  }
  if (devServices) {
    for (const [service, port, clients] of [
      ["postgres", devServices.postgres, APP_COMPONENTS],
      ["redis", devServices.redis, ["api", "worker"]],
    ] as const) {
      policies.push({
        role: `${service}-allow-ingress`,
        name: naming.name(service, "allow-ingress"),
        component: service,
        spec: {
          podSelector: { matchLabels: naming.selector(service) },
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ podSelector: appPods(naming, [...clients]) }], ports: [tcp(port)] }],
        },
      });
    }
  }
  return policies;
}
