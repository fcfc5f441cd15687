// The api-stack policy pack (policy/): every rule against a violating and a passing object, on
// every kind it covers and on Patch resources; how the pack scopes rules to environments, checks
// and exempts rendered objects and reads its config; its copy of release identity against the
// program's; and the dev and prod stacks (rolling, blue-green, canary) under mocks, which must not
// violate any mandatory rule.
import { strict as assert } from "node:assert";
import { naming as makeNaming } from "../../components/names";
import { deploymentSpec, migrationJobSpec, podTemplate, type PodInput } from "../../components/workload/spec";
import * as imageReference from "../../components/image/reference";
import * as releaseIdentity from "../../components/release";
import { environmentOf, groupKind, kubeType, podTemplateOf, renderedBy, stackOf, type Props } from "../../policy/kube";
import {
  evaluate,
  policies,
  settingsFor,
  type Finding,
  type PackConfig,
  type ResourceValidationArgs,
} from "../../policy/pack";
import * as packRelease from "../../policy/release";
import {
  availability,
  blueGreenPromotion,
  explicitHosts,
  gatewayTls,
  hostNamespaces,
  hostPath,
  hostPorts,
  imageDigest,
  ingressTls,
  looksSecret,
  noExternalService,
  noSecretsInConfigMap,
  podSecurity,
  probes,
  prometheusScrape,
  recommendedLabels,
  resources,
  RULES,
  topologySpread,
  visibleObjects,
  type StackResource,
} from "../../policy/rules";
import type { LiveRelease } from "../../components/api/release-state";
import { asManifest, devInput, prodInput, runProgram, withConfig, type RunResult } from "../support/harness";
import { withCosign } from "../support/cosign";

const T = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  job: "kubernetes:batch/v1:Job",
  pod: "kubernetes:core/v1:Pod",
  rollout: "kubernetes:argoproj.io/v1alpha1:Rollout",
  service: "kubernetes:core/v1:Service",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  configMap: "kubernetes:core/v1:ConfigMap",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  cronJob: "kubernetes:batch/v1:CronJob",
  httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
  gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
  helmRelease: "kubernetes:helm.sh/v3:Release",
};
/** The Patch resource of a kind: `kubernetes:apps/v1:DeploymentPatch`. */
const patchOf = (type: string) => `${type}Patch`;

// --- fixtures: objects as the program builds them, from its own spec builders -----------------

const names = makeNaming({ appName: "api", environment: "prod", appVersion: "0.1.0", project: "api-stack" });
const ref = (c: string) => `registry.example.com/platform/api@sha256:${c.repeat(64)}`;
const IMAGE = ref("2");
const clone = <T>(value: T): T => structuredClone(value) as T;

const podInput = (component: PodInput["component"], extra: Partial<PodInput> = {}): PodInput => ({
  naming: names,
  component,
  image: IMAGE,
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  configMapName: "api-settings",
  secretName: "api-secrets",
  serviceAccountName: "api",
  settingsChecksum: "a".repeat(64),
  terminationGracePeriodSeconds: 45,
  ...extra,
});
const apiTemplate = () => podTemplate(podInput("api", { http: { preStopSleepSeconds: 5 }, spread: true })) as Props;
const metadata = (name: string, component: "api" | "worker" | "migration" = "api") => ({
  name,
  namespace: "api-prod",
  labels: names.labels(component),
});

const deployment = (): Props =>
  clone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata("api"),
    spec: deploymentSpec({ naming: names, component: "api", replicas: 3, template: apiTemplate() }) as Props,
  });
const workerDeployment = (): Props =>
  clone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata("api-worker", "worker"),
    spec: deploymentSpec({
      naming: names,
      component: "worker",
      replicas: 1,
      template: podTemplate(podInput("worker", { command: ["celery", "-A", "app.celery", "worker"] })),
    }) as Props,
  });
const migrationJob = (): Props =>
  clone({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadata("api-migration-222222222222", "migration"),
    spec: migrationJobSpec({
      template: podTemplate(podInput("migration", { command: ["alembic", "upgrade", "head"], restartPolicy: "Never" })),
      timeoutSeconds: 600,
    }) as Props,
  });
const rollout = (autoPromotionEnabled: boolean, annotations?: Record<string, string>): Props =>
  clone({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { ...metadata("api"), ...(annotations ? { annotations } : {}) },
    spec: {
      replicas: 3,
      selector: { matchLabels: names.selector("api") },
      template: apiTemplate(),
      strategy: { blueGreen: { activeService: "api", previewService: "api-preview", autoPromotionEnabled } },
    },
  });
const service = (type = "ClusterIP"): Props => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: metadata("api"),
  spec: {
    type,
    selector: names.selector("api"),
    ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
  },
});
const ingress = (tls?: Props[]): Props => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: metadata("api"),
  spec: {
    ingressClassName: "nginx",
    ...(tls ? { tls } : {}),
    rules: [
      {
        host: "api.example.com",
        http: {
          paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } }],
        },
      },
    ],
  },
});
const configMap = (data: Record<string, string>): Props => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: metadata("api-settings"),
  data: {
    ENVIRONMENT: "prod",
    APP_NAME: "api",
    ACCESS_TOKEN_EXPIRE_MINUTES: "30",
    REFRESH_TOKEN_EXPIRE_DAYS: "7",
    DB_POOL_SIZE: "5",
    ...data,
  },
});
const hpa = (
  minReplicas: number | undefined,
  target = { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
): Props => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: metadata("api"),
  spec: { scaleTargetRef: target, ...(minReplicas === undefined ? {} : { minReplicas }), maxReplicas: 20 },
});
const pdb = (matchLabels: Record<string, string> = names.selector("api")): Props => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: metadata("api"),
  spec: { maxUnavailable: 1, selector: { matchLabels }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
});

const apiContainer = (object: Props) => object.spec.template.spec.containers[0];

/** Every pod-bearing kind, around the program's API pod template. */
const POD_BEARING: [string, () => Props][] = [
  [T.deployment, deployment],
  [
    T.statefulSet,
    () =>
      clone({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: metadata("api"),
        spec: { serviceName: "api", template: apiTemplate() },
      }),
  ],
  [
    T.daemonSet,
    () =>
      clone({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: metadata("api"), spec: { template: apiTemplate() } }),
  ],
  [
    T.replicaSet,
    () =>
      clone({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: metadata("api"),
        spec: { replicas: 3, template: apiTemplate() },
      }),
  ],
  [T.job, migrationJob],
  [
    T.cronJob,
    () =>
      clone({
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: metadata("api"),
        spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: apiTemplate() } } },
      }),
  ],
  [T.rollout, () => rollout(false)],
  [T.pod, () => clone({ apiVersion: "v1", kind: "Pod", metadata: metadata("api"), spec: apiTemplate().spec })],
];
const podSpec = (type: string, object: Props): Props => podTemplateOf(type, object)!.spec!;
/** The Patch resource of a pod-bearing kind that sets this much of its pod spec, and nothing else. */
const podPatch = (type: string, spec: Props): [string, Props] => {
  const metadata = { name: "api", namespace: "api-prod" };
  const kind = kubeType(type)!.kind;
  const template = { template: { spec } };
  const props =
    kind === "Pod"
      ? { metadata, spec }
      : kind === "CronJob"
        ? { metadata, spec: { jobTemplate: { spec: template } } }
        : { metadata, spec: template };
  return [patchOf(type), props];
};
const httpRoute = (parentRefs: Props[], hostnames: string[] | null = ["api.example.com"]): Props => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: metadata("api"),
  spec: {
    parentRefs,
    ...(hostnames === null ? {} : { hostnames }),
    rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "api", port: 80 }] }],
  },
});
const certificate = { certificateRefs: [{ kind: "Secret", name: "api-tls" }] };
const gateway = (listeners: Props[], namespace = "api-prod"): Props => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { name: "public", namespace },
  spec: { gatewayClassName: "traefik", listeners },
});

// --- the rules, one by one --------------------------------------------------------------------

describe("policy rules", () => {
  describe("pod-security", () => {
    it("passes the program's API, worker and migration pods and a locked-down bare Pod", () => {
      assert.deepEqual(podSecurity(T.deployment, deployment()), []);
      assert.deepEqual(podSecurity(T.deployment, workerDeployment()), []);
      assert.deepEqual(podSecurity(T.job, migrationJob()), []);
      assert.deepEqual(podSecurity(T.rollout, rollout(false)), []);
      const template = apiTemplate();
      assert.deepEqual(
        podSecurity(T.pod, { apiVersion: "v1", kind: "Pod", metadata: metadata("api"), spec: template.spec }),
        [],
      );
    });

    it("names every missing setting of a container that is not locked down", () => {
      const object = deployment();
      apiContainer(object).securityContext = {};
      delete object.spec.template.spec.securityContext;
      assert.deepEqual(podSecurity(T.deployment, object), [
        'container "api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
        'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (such as /tmp)',
        'container "api" may escalate privileges: set securityContext.allowPrivilegeEscalation: false',
        'container "api" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]',
        'container "api" runs without a seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container',
      ]);
    });

    it("accepts runAsNonRoot and seccomp from the pod level alone", () => {
      const object = deployment();
      const sc = apiContainer(object).securityContext;
      delete sc.runAsNonRoot;
      delete sc.seccompProfile;
      assert.deepEqual(podSecurity(T.deployment, object), []);
    });

    it("lets a container override the pod's settings, for the worse", () => {
      const object = workerDeployment();
      Object.assign(apiContainer(object).securityContext, {
        runAsUser: 0,
        privileged: true,
        seccompProfile: { type: "Unconfined" },
        capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE", "SYS_ADMIN"] },
      });
      assert.deepEqual(podSecurity(T.deployment, object), [
        'container "worker" runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true',
        'container "worker" is privileged: remove securityContext.privileged',
        'container "worker" adds capabilities SYS_ADMIN: remove them from securityContext.capabilities.add (only NET_BIND_SERVICE may be added back)',
        'container "worker" runs with seccomp profile Unconfined: set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container',
      ]);
    });

    it("checks init containers, StatefulSets, Jobs, Rollouts and bare Pods", () => {
      const init = {
        name: "wait-for-db",
        image: IMAGE,
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
      };
      const object = migrationJob();
      object.spec.template.spec.initContainers = [init];
      object.spec.template.spec.securityContext.runAsNonRoot = false;
      assert.deepEqual(podSecurity(T.job, object), [
        'init container "wait-for-db" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
        // The app container's own runAsNonRoot: true still holds.
      ]);
      const statefulSet = {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: metadata("api"),
        spec: { template: { spec: { containers: [{ name: "db", image: IMAGE }] } } },
      };
      assert.equal(podSecurity(T.statefulSet, statefulSet).length, 5);
      const bare = rollout(false);
      apiContainer(bare).securityContext.readOnlyRootFilesystem = false;
      assert.deepEqual(podSecurity(T.rollout, bare), [
        'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (such as /tmp)',
      ]);
      assert.equal(
        podSecurity(T.pod, { kind: "Pod", metadata: {}, spec: { containers: [{ name: "x", image: IMAGE }] } }).length,
        5,
      );
    });

    it("ignores objects without pods", () => {
      assert.deepEqual(podSecurity(T.service, service()), []);
      // A Rollout that borrows a Deployment's template through workloadRef has no pods of its own.
      assert.deepEqual(
        podSecurity(T.rollout, { kind: "Rollout", spec: { workloadRef: { kind: "Deployment", name: "api" } } }),
        [],
      );
    });

    it("checks every pod-bearing kind, whatever its API version", () => {
      for (const [type, make] of POD_BEARING) {
        assert.deepEqual(podSecurity(type, make()), [], type);
        const object = make();
        const [container] = podSpec(type, object).containers;
        container.securityContext.privileged = true;
        assert.deepEqual(
          podSecurity(type, object),
          [`container "${container.name}" is privileged: remove securityContext.privileged`],
          type,
        );
      }
      const beta = deployment();
      apiContainer(beta).securityContext.privileged = true;
      assert.equal(podSecurity("kubernetes:apps/v1beta2:Deployment", beta).length, 1);
      assert.equal(
        podSecurity("kubernetes:core/v1:ReplicationController", { spec: { template: beta.spec.template } }).length,
        1,
      );
    });

    it("judges a patch by what it sets: weaker values and removals fail, what it leaves out passes", () => {
      const weak = {
        securityContext: { runAsNonRoot: false },
        containers: [
          {
            name: "api",
            securityContext: {
              readOnlyRootFilesystem: false,
              allowPrivilegeEscalation: true,
              privileged: true,
              capabilities: { drop: ["NET_RAW"], add: ["SYS_ADMIN"] },
              seccompProfile: { type: "Unconfined" },
            },
          },
        ],
      };
      for (const [type] of POD_BEARING) {
        assert.deepEqual(podSecurity(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })), [], type);
        assert.deepEqual(
          podSecurity(
            ...podPatch(type, {
              securityContext: { runAsNonRoot: true },
              containers: [{ name: "api", securityContext: { privileged: false } }],
            }),
          ),
          [],
          type,
        );
        assert.deepEqual(
          podSecurity(...podPatch(type, weak)),
          [
            "pod may run as root: set securityContext.runAsNonRoot: true on the pod or the container",
            'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (such as /tmp)',
            'container "api" is privileged: remove securityContext.privileged',
            'container "api" may escalate privileges: set securityContext.allowPrivilegeEscalation: false',
            'container "api" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]',
            'container "api" adds capabilities SYS_ADMIN: remove them from securityContext.capabilities.add (only NET_BIND_SERVICE may be added back)',
            'container "api" runs with seccomp profile Unconfined: set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container',
          ],
          type,
        );
      }
      // null removes a field, and everything below it.
      assert.deepEqual(
        podSecurity(
          ...podPatch(T.deployment, {
            securityContext: { runAsUser: 0, seccompProfile: null },
            initContainers: [{ name: "wait", securityContext: null }],
          }),
        ),
        [
          "pod runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true",
          "pod runs without a seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container",
          'init container "wait" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
          'init container "wait" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (such as /tmp)',
          'init container "wait" may escalate privileges: set securityContext.allowPrivilegeEscalation: false',
          'init container "wait" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]',
          'init container "wait" runs without a seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container',
        ],
      );
    });
  });

  describe("host-namespaces, host-path, host-ports", () => {
    const NAMESPACES = [
      "pod shares the node's network namespace, so it can bind the node's ports and reach every service listening on the node: remove spec.hostNetwork",
      "pod shares the node's process namespace, so it can see, and signal, every process on the node: remove spec.hostPID",
      "pod shares the node's IPC namespace, so it can read other processes' shared memory: remove spec.hostIPC",
    ];
    const HOST_PATH =
      'pod mounts the node\'s /var/run/docker.sock (volume "docker"), which lets it read or change the node: use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead of a hostPath volume';
    const hostPort = (container = "api") =>
      `container "${container}" binds port 80 of its node (hostPort of containerPort 8000), around its Service and the Ingress and onto every address of the node: remove hostPort`;
    const docker = { name: "docker", hostPath: { path: "/var/run/docker.sock", type: "Socket" } };

    it("pass every pod-bearing kind as the program builds its pods", () => {
      for (const [type, make] of POD_BEARING) {
        for (const rule of [hostNamespaces, hostPath, hostPorts]) {
          assert.deepEqual(rule(type, make()), [], `${rule.name} ${type}`);
        }
      }
      const explicit = deployment();
      Object.assign(explicit.spec.template.spec, { hostNetwork: false, hostPID: false, hostIPC: false });
      assert.deepEqual(hostNamespaces(T.deployment, explicit), []);
    });

    it("refuse the node's namespaces, directories and ports on every pod-bearing kind", () => {
      for (const [type, make] of POD_BEARING) {
        const object = make();
        const spec = podSpec(type, object);
        Object.assign(spec, { hostNetwork: true, hostPID: true, hostIPC: true });
        spec.volumes.push(docker);
        spec.containers[0].ports = [{ name: "http", containerPort: 8000, hostPort: 80 }];
        assert.deepEqual(hostNamespaces(type, object), NAMESPACES, type);
        assert.deepEqual(hostPath(type, object), [HOST_PATH], type);
        assert.deepEqual(hostPorts(type, object), [hostPort(spec.containers[0].name)], type);
      }
    });

    it("refuse a Windows host process, pod-wide or per container, and a host port of an init container", () => {
      const object = deployment();
      object.spec.template.spec.securityContext.windowsOptions = { hostProcess: true };
      object.spec.template.spec.initContainers = [
        {
          name: "wait",
          image: IMAGE,
          ports: [{ containerPort: 9000, hostPort: 9000 }],
          securityContext: { windowsOptions: { hostProcess: true } },
        },
      ];
      assert.deepEqual(hostNamespaces(T.deployment, object), [
        "pod runs as a Windows host process, with the node's privileges: remove securityContext.windowsOptions.hostProcess",
        'init container "wait" runs as a Windows host process, with the node\'s privileges: remove securityContext.windowsOptions.hostProcess',
      ]);
      assert.deepEqual(hostPorts(T.deployment, object), [
        'init container "wait" binds port 9000 of its node (hostPort of containerPort 9000), around its Service and the Ingress and onto every address of the node: remove hostPort',
      ]);
    });

    it("check patches for what they set", () => {
      for (const [type] of POD_BEARING) {
        const patch = podPatch(type, {
          hostNetwork: true,
          hostPID: true,
          hostIPC: true,
          volumes: [docker],
          containers: [{ name: "api", ports: [{ containerPort: 8000, hostPort: 80 }] }],
        });
        assert.deepEqual(hostNamespaces(...patch), NAMESPACES, type);
        assert.deepEqual(hostPath(...patch), [HOST_PATH], type);
        assert.deepEqual(hostPorts(...patch), [hostPort()], type);
        const harmless = podPatch(type, {
          volumes: [{ name: "tmp", emptyDir: {} }],
          containers: [{ name: "api", ports: [{ containerPort: 8000 }] }],
        });
        for (const rule of [hostNamespaces, hostPath, hostPorts]) {
          assert.deepEqual(rule(...harmless), [], `${rule.name} ${type}`);
        }
      }
    });
  });

  describe("resources", () => {
    it("passes containers with CPU and memory requests and limits", () => {
      assert.deepEqual(resources(T.deployment, deployment()), []);
      assert.deepEqual(resources(T.job, migrationJob()), []);
    });

    it("names the missing fields and the config keys that set them", () => {
      const object = deployment();
      apiContainer(object).resources = { requests: { cpu: "250m" } };
      assert.deepEqual(resources(T.deployment, object), [
        'container "api" lacks resources.requests.memory, resources.limits.cpu, resources.limits.memory: set them (for the app\'s containers: api-stack:memoryRequest, api-stack:cpuLimit, api-stack:memoryLimit)',
      ]);
      delete apiContainer(object).resources;
      object.spec.template.spec.containers[0].resources = {
        requests: { cpu: "1", memory: "1Gi" },
        limits: { cpu: "1" },
      };
      assert.deepEqual(resources(T.deployment, object), [
        'container "api" lacks resources.limits.memory: set it (for the app\'s containers: api-stack:memoryLimit)',
      ]);
    });

    it("blames a patch only for the requests and limits it removes", () => {
      const all =
        'container "api" lacks resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory: set them (for the app\'s containers: api-stack:cpuRequest, api-stack:memoryRequest, api-stack:cpuLimit, api-stack:memoryLimit)';
      for (const [type] of POD_BEARING) {
        assert.deepEqual(resources(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })), [], type);
        assert.deepEqual(
          resources(...podPatch(type, { containers: [{ name: "api", resources: { limits: { cpu: "2" } } }] })),
          [],
          type,
        );
        assert.deepEqual(resources(...podPatch(type, { containers: [{ name: "api", resources: null }] })), [all], type);
      }
      assert.deepEqual(
        resources(
          ...podPatch(T.deployment, {
            containers: [{ name: "api", resources: { limits: null, requests: { cpu: null, memory: "1Gi" } } }],
          }),
        ),
        [
          'container "api" lacks resources.requests.cpu, resources.limits.cpu, resources.limits.memory: set them (for the app\'s containers: api-stack:cpuRequest, api-stack:cpuLimit, api-stack:memoryLimit)',
        ],
      );
    });
  });

  describe("probes", () => {
    it("passes the API (probed) and the worker (serves no port)", () => {
      assert.deepEqual(probes(T.deployment, deployment()), []);
      assert.deepEqual(probes(T.deployment, workerDeployment()), []);
    });

    it("wants liveness and readiness probes on a container that serves a port", () => {
      // The API serves its app port and the metrics port.
      const object = deployment();
      delete apiContainer(object).livenessProbe;
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves ports 8000, 9000 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ]);
      delete apiContainer(object).readinessProbe;
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves ports 8000, 9000 without livenessProbe or readinessProbe: add them so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ]);
      apiContainer(object).ports = apiContainer(object).ports.filter((port: Props) => port.name === "http");
      apiContainer(object).readinessProbe = { httpGet: { path: "/health/ready", port: "http" } };
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves port 8000 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ]);
    });

    it("blames a patch for the probes it removes, which it cannot tell a serving container from", () => {
      for (const [type] of POD_BEARING) {
        assert.deepEqual(
          probes(...podPatch(type, { containers: [{ name: "api", image: IMAGE, ports: [{ containerPort: 8000 }] }] })),
          [],
          type,
        );
        assert.deepEqual(
          probes(...podPatch(type, { containers: [{ name: "api", livenessProbe: null, readinessProbe: null }] })),
          [
            'container "api": the patch removes its livenessProbe and readinessProbe: keep them so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
          ],
          type,
        );
      }
    });
  });

  describe("image-digest", () => {
    it("passes images pinned by digest", () => {
      assert.deepEqual(imageDigest(T.deployment, deployment()), []);
      const object = deployment();
      apiContainer(object).image = `127.0.0.1:5000/api-stack/fastapi:dev@sha256:${"e".repeat(64)}`;
      assert.deepEqual(imageDigest(T.deployment, object), []);
    });

    it("refuses latest, a missing tag, a bare tag and a malformed digest, naming the key that sets the image", () => {
      const fix = (key: string) =>
        `pin it by digest, as repository@sha256:<digest> (api-stack:${key}; the app's image is pinned when the program builds it)`;
      const cases: [string, string, string][] = [
        [
          "api",
          "registry.example.com/platform/api:latest",
          `container "api" image "registry.example.com/platform/api:latest" uses the mutable tag latest: ${fix("imageRef")}`,
        ],
        [
          "api",
          "127.0.0.1:5000/api-stack/fastapi",
          `container "api" image "127.0.0.1:5000/api-stack/fastapi" has neither tag nor digest, so it is whatever latest is at pull time: ${fix("imageRef")}`,
        ],
        [
          "backup",
          "postgres:16-alpine",
          `container "backup" image "postgres:16-alpine" is pinned only by the tag 16-alpine, which can be moved: ${fix("backupImage")}`,
        ],
        [
          "api",
          "registry.example.com/platform/api@sha256:abc",
          `container "api" image "registry.example.com/platform/api@sha256:abc" has no valid sha256 digest: ${fix("imageRef")}`,
        ],
      ];
      for (const [name, image, message] of cases) {
        const object = deployment();
        Object.assign(apiContainer(object), { name, image });
        assert.deepEqual(imageDigest(T.deployment, object), [message]);
      }
    });

    it("checks the images a patch sets, on every pod-bearing kind", () => {
      for (const [type] of POD_BEARING) {
        assert.deepEqual(
          imageDigest(...podPatch(type, { containers: [{ name: "api", resources: { limits: { cpu: "2" } } }] })),
          [],
          type,
        );
        assert.deepEqual(imageDigest(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })), [], type);
        assert.deepEqual(
          imageDigest(
            ...podPatch(type, { containers: [{ name: "api", image: "registry.example.com/platform/api:v2" }] }),
          ),
          [
            'container "api" image "registry.example.com/platform/api:v2" is pinned only by the tag v2, which can be moved: pin it by digest, as repository@sha256:<digest> (api-stack:imageRef; the app\'s image is pinned when the program builds it)',
          ],
          type,
        );
      }
    });
  });

  describe("no-external-service", () => {
    it("passes ClusterIP Services", () => {
      assert.deepEqual(noExternalService(T.service, service()), []);
    });

    it("refuses LoadBalancer and NodePort Services", () => {
      for (const type of ["LoadBalancer", "NodePort"]) {
        assert.deepEqual(noExternalService(T.service, service(type)), [
          `Service of type ${type} exposes the API around the Ingress (its TLS, rate limit and host rules): use type ClusterIP and publish the API through the Ingress (api-stack:ingressEnabled, api-stack:ingressHost)`,
        ]);
      }
    });

    it("refuses external IPs, and a ServicePatch that sets an external type or IPs", () => {
      const externalIPs =
        "Service claims the external IPs 203.0.113.7, so every node forwards their traffic to it, around the Ingress (its TLS, rate limit and host rules) and over whoever else owns those addresses: remove spec.externalIPs and publish the API through the Ingress (api-stack:ingressEnabled, api-stack:ingressHost)";
      const object = service();
      object.spec.externalIPs = ["203.0.113.7"];
      assert.deepEqual(noExternalService(T.service, object), [externalIPs]);
      const patch = patchOf(T.service);
      assert.deepEqual(
        noExternalService(patch, {
          metadata: { name: "api" },
          spec: { type: "LoadBalancer", externalIPs: ["203.0.113.7"] },
        }),
        [
          "Service of type LoadBalancer exposes the API around the Ingress (its TLS, rate limit and host rules): use type ClusterIP and publish the API through the Ingress (api-stack:ingressEnabled, api-stack:ingressHost)",
          externalIPs,
        ],
      );
      assert.deepEqual(noExternalService(patch, { metadata: { name: "api", annotations: { team: "platform" } } }), []);
      assert.deepEqual(noExternalService(patch, { metadata: { name: "api" }, spec: { externalIPs: [] } }), []);
    });
  });

  describe("ingress-tls", () => {
    it("passes an Ingress whose hosts all have TLS", () => {
      assert.deepEqual(ingressTls(T.ingress, ingress([{ hosts: ["api.example.com"], secretName: "api-tls" }])), []);
    });

    it("refuses plain HTTP and hosts left out of spec.tls", () => {
      const message = (what: string) =>
        `Ingress serves ${what} over plain HTTP: set api-stack:ingressTls to true so cert-manager (api-stack:clusterIssuer) issues a certificate and spec.tls lists the host`;
      assert.deepEqual(ingressTls(T.ingress, ingress()), [message("api.example.com")]);
      assert.deepEqual(ingressTls(T.ingress, ingress([{ hosts: ["www.example.com"], secretName: "www-tls" }])), [
        message("api.example.com"),
      ]);
      const catchAll = ingress();
      delete catchAll.spec.rules[0].host;
      assert.deepEqual(ingressTls(T.ingress, catchAll), [message("every host")]);
    });

    it("checks an IngressPatch's hosts against its own spec.tls, and refuses one that empties it", () => {
      const patch = patchOf(T.ingress);
      const { rules } = ingress().spec;
      assert.deepEqual(
        ingressTls(patch, {
          metadata: { name: "api" },
          spec: { rules, tls: [{ hosts: ["api.example.com"], secretName: "api-tls" }] },
        }),
        [],
      );
      assert.deepEqual(
        ingressTls(patch, {
          metadata: { name: "api", annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" } },
        }),
        [],
      );
      assert.deepEqual(
        ingressTls(patch, {
          metadata: { name: "api" },
          spec: { tls: [{ hosts: ["api.example.com"], secretName: "api-tls" }] },
        }),
        [],
      );
      assert.deepEqual(ingressTls(patch, { metadata: { name: "api" }, spec: { rules } }), [
        "IngressPatch serves api.example.com over plain HTTP: set api-stack:ingressTls to true so cert-manager (api-stack:clusterIssuer) issues a certificate and spec.tls lists the host",
      ]);
      for (const tls of [[], null]) {
        assert.deepEqual(ingressTls(patch, { metadata: { name: "api" }, spec: { tls } }), [
          "IngressPatch empties spec.tls, so the Ingress it patches serves every host over plain HTTP: keep api-stack:ingressTls true so spec.tls lists each host with its certificate",
        ]);
      }
      assert.equal(ingressTls("kubernetes:extensions/v1beta1:Ingress", ingress()).length, 1);
    });
  });

  describe("explicit-hosts", () => {
    it("passes the program's Ingress and a route that names its host", () => {
      assert.deepEqual(explicitHosts(T.ingress, ingress([{ hosts: ["api.example.com"], secretName: "api-tls" }])), []);
      assert.deepEqual(
        explicitHosts(T.httpRoute, httpRoute([{ name: "public", namespace: "gateways", sectionName: "https" }])),
        [],
      );
    });

    it("refuses an Ingress rule without host, a wildcard host and a default backend", () => {
      const object = ingress();
      object.spec.rules.push(
        { http: object.spec.rules[0].http },
        { host: "*.example.com", http: object.spec.rules[0].http },
      );
      object.spec.defaultBackend = { service: { name: "api", port: { name: "http" } } };
      assert.deepEqual(explicitHosts(T.ingress, object), [
        "Ingress has a rule without host, which answers for every host: give every rule the API's host (api-stack:ingressHost)",
        "Ingress answers for the wildcard host *.example.com: give every rule the API's host (api-stack:ingressHost)",
        "Ingress has a default backend, which answers for every host: remove it and give every rule the API's host (api-stack:ingressHost)",
      ]);
    });

    it("refuses a route without hostnames or with a wildcard, and patches that set them so", () => {
      const parents = [{ name: "public", namespace: "gateways", sectionName: "https" }];
      const every =
        "HTTPRoute has no spec.hostnames, so it answers for every host its Gateway listener accepts: list each host the API serves in spec.hostnames";
      assert.deepEqual(explicitHosts(T.httpRoute, httpRoute(parents, null)), [every]);
      assert.deepEqual(explicitHosts(T.httpRoute, httpRoute(parents, ["api.example.com", "*.example.com"])), [
        "HTTPRoute answers for the wildcard host *.example.com: list each host the API serves in spec.hostnames",
      ]);
      const patch = patchOf(T.httpRoute);
      assert.deepEqual(explicitHosts(patch, { metadata: { name: "api" }, spec: { parentRefs: parents } }), []);
      assert.deepEqual(explicitHosts(patch, { metadata: { name: "api" }, spec: { hostnames: [] } }), [
        every.replace("HTTPRoute", "HTTPRoutePatch"),
      ]);
      assert.deepEqual(
        explicitHosts(patchOf(T.ingress), { metadata: { name: "api" }, spec: { rules: [{ host: "*.example.com" }] } }),
        [
          "IngressPatch answers for the wildcard host *.example.com: give every rule the API's host (api-stack:ingressHost)",
        ],
      );
      assert.deepEqual(
        explicitHosts(patchOf(T.ingress), { metadata: { name: "api", labels: { team: "platform" } } }),
        [],
      );
    });
  });

  describe("gateway-tls (stack)", () => {
    const res = (type: string, props: Props): StackResource => ({
      type,
      props,
      urn: `urn:pulumi:prod::api-stack::${type}::${props.metadata.name}`,
    });
    const ROUTE_URN = `urn:pulumi:prod::api-stack::${T.httpRoute}::api`;
    const platform = { name: "public", namespace: "gateways", sectionName: "https" };
    const configured = { httpsListeners: ["gateways/public/https"] };

    it("passes a route on an HTTPS listener of the platform's Gateway that the policy config names", () => {
      assert.deepEqual(gatewayTls([res(T.httpRoute, httpRoute([platform]))], configured), []);
      // A Service parent is a mesh route between workloads, which no Gateway exposes.
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([{ group: "", kind: "Service", name: "api" }]))], {
          httpsListeners: [],
        }),
        [],
      );
    });

    it("refuses a route on a listener it cannot see, or on every listener of a Gateway it cannot see", () => {
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([platform]))], { httpsListeners: ["gateways/public/http"] }),
        [
          {
            urn: ROUTE_URN,
            message:
              'HTTPRoute serves api.example.com through listener "https" of Gateway gateways/public, which this stack does not create, so the pack cannot see that it serves TLS: once it is an HTTPS listener with a certificate, list "gateways/public/https" in the gateway-tls policy config\'s httpsListeners',
          },
        ],
      );
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([{ name: "public", namespace: "gateways" }]))], configured),
        [
          {
            urn: ROUTE_URN,
            message:
              'HTTPRoute attaches to every listener of Gateway gateways/public, which this stack does not create, so the pack cannot tell that they all serve TLS: name the HTTPS listener in spec.parentRefs[].sectionName and list "gateways/public/<listener>" in the gateway-tls policy config\'s httpsListeners',
          },
        ],
      );
    });

    it("reads the listeners of a Gateway the stack creates, and refuses plain HTTP ones", () => {
      const listeners = [
        { name: "http", protocol: "HTTP", port: 80, hostname: "api.example.com" },
        { name: "https", protocol: "HTTPS", port: 443, hostname: "api.example.com", tls: certificate },
      ];
      const own = res(T.gateway, gateway(listeners));
      const plain = {
        urn: ROUTE_URN,
        message:
          'HTTPRoute serves api.example.com over plain HTTP through listener "http" (HTTP) of Gateway api-prod/public: attach it to an HTTPS listener only (spec.parentRefs[].sectionName), or make it only redirect to https',
      };
      const none = { httpsListeners: [] };
      assert.deepEqual(
        gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public", sectionName: "https" }]))], none),
        [],
      );
      assert.deepEqual(gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public", port: 443 }]))], none), []);
      assert.deepEqual(gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public" }]))], none), [plain]);
      assert.deepEqual(
        gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public", sectionName: "http" }]))], none),
        [plain],
      );
      // The usual companion of an HTTPS listener: a route on the HTTP one that only redirects.
      const redirect = httpRoute([{ name: "public", sectionName: "http" }]);
      redirect.spec.rules = [
        { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
      ];
      assert.deepEqual(gatewayTls([own, res(T.httpRoute, redirect)], none), []);
      // The stack's Gateway is found in the stack, even when out of the rule's scope.
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([{ name: "public", sectionName: "http" }]))], {
          ...none,
          registered: [own],
        }),
        [plain],
      );
    });

    it("refuses an HTTPS listener without a certificate on a Gateway the stack creates", () => {
      const own = res(
        T.gateway,
        gateway([
          { name: "https", protocol: "HTTPS", port: 443, hostname: "api.example.com", tls: { mode: "Terminate" } },
        ]),
      );
      assert.deepEqual(gatewayTls([own], { httpsListeners: [] }), [
        {
          urn: `urn:pulumi:prod::api-stack::${T.gateway}::public`,
          message:
            'Gateway listener "https" is HTTPS without tls.certificateRefs, so it has no certificate to serve: list the Secret that cert-manager issues for its hostname in tls.certificateRefs (with the Gateway annotated cert-manager.io/cluster-issuer)',
        },
      ]);
    });

    it("checks an HTTPRoutePatch that sets parentRefs", () => {
      const patch = patchOf(T.httpRoute);
      assert.deepEqual(
        gatewayTls([res(patch, { metadata: { name: "api" }, spec: { hostnames: ["api.example.com"] } })], {
          httpsListeners: [],
        }),
        [],
      );
      assert.equal(
        gatewayTls([res(patch, { metadata: { name: "api" }, spec: { parentRefs: [platform] } })], {
          httpsListeners: [],
        }).length,
        1,
      );
      assert.deepEqual(
        gatewayTls([res(patch, { metadata: { name: "api" }, spec: { parentRefs: [platform] } })], configured),
        [],
      );
    });
  });

  describe("no-secrets-in-configmap", () => {
    it("passes the program's settings, token lifetimes included", () => {
      assert.deepEqual(
        noSecretsInConfigMap(
          T.configMap,
          configMap({ REDIS_URL: "redis://api-redis.api-dev.svc.cluster.local:6379/0" }),
        ),
        [],
      );
    });

    it("tells secret-looking names from settings that only talk about secrets", () => {
      for (const name of [
        "DB_PASSWORD",
        "SECRET_KEY",
        "GITHUB_TOKEN",
        "TOKEN",
        "SENTRY_DSN",
        "DATABASE_URL",
        "READONLY_DATABASE_URL",
        "STRIPE_API_KEY",
        "aws_secret_access_key",
        "APIKEY",
        "SMTP_CREDENTIALS",
      ]) {
        assert.ok(looksSecret(name), name);
      }
      for (const name of [
        "ACCESS_TOKEN_EXPIRE_MINUTES",
        "REFRESH_TOKEN_EXPIRE_DAYS",
        "CACHE_KEY_PREFIX",
        "KEY",
        "REDIS_URL",
        "DB_POOL_SIZE",
        "ENVIRONMENT",
      ]) {
        assert.ok(!looksSecret(name), name);
      }
    });

    it("refuses secret keys, naming the secret config key that feeds them", () => {
      assert.deepEqual(
        noSecretsInConfigMap(T.configMap, configMap({ SECRET_KEY: "x".repeat(40), STRIPE_API_KEY: "sk_live" })),
        [
          "ConfigMap key SECRET_KEY looks like a secret: move it to the Secret: it comes from the secret config key api-stack:secretKey (pulumi config set --secret secretKey)",
          "ConfigMap key STRIPE_API_KEY looks like a secret: move it to a Secret and read it through envFrom.secretRef or secretKeyRef",
        ],
      );
    });

    it("refuses a URL that carries a password, and secret keys in binaryData", () => {
      const object = configMap({ REDIS_URL: "rediss://:hunter2@redis.internal:6380/0" });
      object.binaryData = { TLS_PRIVATE_KEY: "LS0tLS1CRUdJTg==" };
      assert.deepEqual(noSecretsInConfigMap(T.configMap, object), [
        "ConfigMap key REDIS_URL holds a URL with a password: move it to the Secret: it comes from the secret config key api-stack:redisUrl (pulumi config set --secret redisUrl)",
        "ConfigMap key TLS_PRIVATE_KEY looks like a secret: move it to a Secret and read it through envFrom.secretRef or secretKeyRef",
      ]);
    });

    it("checks the keys a ConfigMapPatch adds", () => {
      const patch = patchOf(T.configMap);
      assert.deepEqual(
        noSecretsInConfigMap(patch, { metadata: { name: "api-settings" }, data: { LOG_LEVEL: "debug" } }),
        [],
      );
      assert.deepEqual(
        noSecretsInConfigMap(patch, {
          metadata: { name: "api-settings" },
          data: { SENTRY_DSN: "https://key@sentry.example.com/1" },
        }),
        [
          "ConfigMap key SENTRY_DSN looks like a secret: move it to the Secret: it comes from the secret config key api-stack:sentryDsn (pulumi config set --secret sentryDsn)",
        ],
      );
    });
  });

  describe("blue-green-promotion", () => {
    it("passes a release that waits in preview, and canary Rollouts", () => {
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(false)), []);
      const canary = rollout(false);
      canary.spec.strategy = {
        canary: { stableService: "api", canaryService: "api-canary", steps: [{ setWeight: 10 }] },
      };
      assert.deepEqual(blueGreenPromotion(T.rollout, canary), []);
    });

    it("passes a promotion recorded by config for exactly this release", () => {
      for (const source of ["promote", "rollbackTo", "active"]) {
        assert.deepEqual(
          blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": `${source}:222222222222` })),
          [],
        );
      }
    });

    it("refuses an auto-promotion that no config recorded (unset autoPromotionEnabled means true)", () => {
      const message =
        "Rollout auto-promotes release 222222222222 without a promotion by config (no api-stack.io/promotion annotation): set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then promote it with `pulumi config set promote 222222222222` (api-stack:promote)";
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true)), [message]);
      const unset = rollout(true);
      delete unset.spec.strategy.blueGreen.autoPromotionEnabled;
      assert.deepEqual(blueGreenPromotion(T.rollout, unset), [message]);
    });

    it("refuses a promotion of another release: promote is not sticky", () => {
      const wait =
        "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then promote it with `pulumi config set promote 222222222222` (api-stack:promote)";
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "promote:111111111111" })),
        [
          `Rollout auto-promotes release 222222222222 but api-stack:promote names release 111111111111: a promotion applies to exactly one release; ${wait}`,
        ],
      );
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "rollbackTo:111111111111" })),
        [
          `Rollout auto-promotes release 222222222222 but api-stack:rollbackTo names release 111111111111: a promotion applies to exactly one release; ${wait}`,
        ],
      );
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "active:111111111111" })),
        [
          `Rollout auto-promotes release 222222222222 but the active release is 111111111111: a promotion applies to exactly one release; ${wait}`,
        ],
      );
    });

    it("refuses autoPromote, unreadable records and images without a digest", () => {
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "autoPromote:222222222222" })),
        [
          "Rollout auto-promotes release 222222222222 because api-stack:autoPromote is true, which is refused in prod: unset it (pulumi config rm autoPromote) and promote each release with `pulumi config set promote 222222222222` (api-stack:promote)",
        ],
      );
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "yes" })), [
        'Rollout auto-promotes release 222222222222 with an unreadable api-stack.io/promotion annotation "yes" (expected promote|rollbackTo|active|autoPromote:<release id>): set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then promote it with `pulumi config set promote 222222222222` (api-stack:promote)',
      ]);
      const tagged = rollout(true, { "api-stack.io/promotion": "promote:222222222222" });
      apiContainer(tagged).image = "registry.example.com/platform/api:v2";
      assert.deepEqual(blueGreenPromotion(T.rollout, tagged), [
        'Rollout auto-promotes image "registry.example.com/platform/api:v2", which has no digest, so no promotion by config can name it: deploy a digest-pinned image and promote it with api-stack:promote',
      ]);
    });

    it("judges a RolloutPatch that turns auto-promotion on like a Rollout, and wants the image it promotes", () => {
      const patch = patchOf(T.rollout);
      const wait = "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then";
      const bluePatch = (
        autoPromotionEnabled: boolean | null | undefined,
        image?: string,
        annotations?: Record<string, string>,
      ): Props => ({
        metadata: { name: "api", ...(annotations ? { annotations } : {}) },
        spec: {
          strategy: {
            blueGreen: autoPromotionEnabled === undefined ? { scaleDownDelaySeconds: 30 } : { autoPromotionEnabled },
          },
          ...(image ? { template: { spec: { containers: [{ name: "api", image }] } } } : {}),
        },
      });
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(undefined, IMAGE)), []);
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(false, IMAGE)), []);
      assert.deepEqual(
        blueGreenPromotion(patch, bluePatch(true, IMAGE, { "api-stack.io/promotion": "promote:222222222222" })),
        [],
      );
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(true)), [
        `RolloutPatch turns on auto-promotion without setting the image it promotes, so no promotion by config can name the release: ${wait} promote it with api-stack:promote`,
      ]);
      // null removes the setting, and Argo's default is to promote.
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(null, IMAGE)), [
        `RolloutPatch auto-promotes release 222222222222 without a promotion by config (no api-stack.io/promotion annotation): ${wait} promote it with \`pulumi config set promote 222222222222\` (api-stack:promote)`,
      ]);
    });
  });

  describe("availability (stack)", () => {
    const res = (type: string, props: Props): StackResource => ({
      type,
      props,
      urn: `urn:pulumi:prod::api-stack::${type}::${props.metadata.name}`,
    });
    const options = { minReplicas: 2 };

    it("passes a serving workload with an HPA floor of 2 or more and a PDB", () => {
      assert.deepEqual(
        availability([res(T.deployment, deployment()), res(T.hpa, hpa(3)), res(T.pdb, pdb())], options),
        [],
      );
      // Neither the worker (no port) nor a Job needs a budget.
      assert.deepEqual(availability([res(T.deployment, workerDeployment()), res(T.job, migrationJob())], options), []);
    });

    it("refuses an HPA floor of 1, explicit or by default", () => {
      for (const floor of [1, undefined]) {
        assert.deepEqual(
          availability([res(T.deployment, deployment()), res(T.hpa, hpa(floor)), res(T.pdb, pdb())], options),
          [
            {
              urn: "urn:pulumi:prod::api-stack::kubernetes:autoscaling/v2:HorizontalPodAutoscaler::api",
              message:
                "HorizontalPodAutoscaler api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more",
            },
          ],
        );
      }
    });

    it("refuses a single replica without an autoscaler", () => {
      const single = deployment();
      single.spec.replicas = 1;
      assert.deepEqual(availability([res(T.deployment, single), res(T.pdb, pdb())], options), [
        {
          urn: "urn:pulumi:prod::api-stack::kubernetes:apps/v1:Deployment::api",
          message:
            "Deployment api runs 1 replica without an autoscaler: set api-stack:replicas to 2 or more (or enable api-stack:hpaEnabled with api-stack:hpaMinReplicas >= 2)",
        },
      ]);
      // An HPA aimed at another workload does not count.
      const elsewhere = hpa(3, { apiVersion: "apps/v1", kind: "Deployment", name: "other" });
      assert.equal(
        availability([res(T.deployment, single), res(T.hpa, elsewhere), res(T.pdb, pdb())], options).length,
        1,
      );
      assert.deepEqual(availability([res(T.deployment, single), res(T.pdb, pdb())], { minReplicas: 1 }), []);
    });

    it("refuses a serving workload without a PodDisruptionBudget that selects its pods", () => {
      const message = {
        urn: "urn:pulumi:prod::api-stack::kubernetes:argoproj.io/v1alpha1:Rollout::api",
        message:
          "Rollout api has no PodDisruptionBudget, so a node drain may evict all its pods at once: add one whose selector matches its pod labels (the program's Scaling component does, sized by api-stack:pdbMaxUnavailable)",
      };
      const rolloutHpa = hpa(3, { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" });
      assert.deepEqual(availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa)], options), [message]);
      const worker = pdb(names.selector("worker"));
      assert.deepEqual(
        availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, worker)], options),
        [message],
      );
      const otherNamespace = pdb();
      otherNamespace.metadata = { ...otherNamespace.metadata, namespace: "api-staging" };
      assert.deepEqual(
        availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, otherNamespace)], options),
        [message],
      );
      const byExpression = pdb();
      byExpression.spec.selector = {
        matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api"] }],
      };
      assert.deepEqual(
        availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, byExpression)], options),
        [],
      );
    });

    it("refuses a PodDisruptionBudget that lets a drain evict every pod, and checks every API version of a kind", () => {
      const message = (setting: string, kind = "PodDisruptionBudget") => ({
        urn: `urn:pulumi:prod::api-stack::${kind === "PodDisruptionBudget" ? T.pdb : patchOf(T.pdb)}::api`,
        message: `${kind} api lets a node drain evict every pod it selects (${setting}): set maxUnavailable below the replica count (the program's Scaling component sets it from api-stack:pdbMaxUnavailable)`,
      });
      const all = pdb();
      all.spec.maxUnavailable = "100%";
      assert.deepEqual(availability([res(T.deployment, deployment()), res(T.hpa, hpa(3)), res(T.pdb, all)], options), [
        message('maxUnavailable: "100%"'),
      ]);
      const none = { metadata: { name: "api", namespace: "api-prod" }, spec: { minAvailable: 0 } };
      assert.deepEqual(availability([res(patchOf(T.pdb), none)], options), [
        message("minAvailable: 0", "PodDisruptionBudgetPatch"),
      ]);
      const v1 = { ...hpa(1), apiVersion: "autoscaling/v1" };
      assert.equal(
        availability(
          [
            res(T.deployment, deployment()),
            res("kubernetes:autoscaling/v1:HorizontalPodAutoscaler", v1),
            res(T.pdb, pdb()),
          ],
          options,
        ).length,
        1,
      );
    });

    it("blames a patch for lowering a floor or the replicas of a serving workload, never for what it does not create", () => {
      const meta = { name: "api", namespace: "api-prod" };
      const hpaPatch = patchOf(T.hpa);
      assert.deepEqual(availability([res(hpaPatch, { metadata: meta, spec: { maxReplicas: 30 } })], options), []);
      assert.deepEqual(availability([res(hpaPatch, { metadata: meta, spec: { minReplicas: 1 } })], options), [
        {
          urn: `urn:pulumi:prod::api-stack::${hpaPatch}::api`,
          message:
            "HorizontalPodAutoscalerPatch api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more",
        },
      ]);
      const scaleDown = res(patchOf(T.deployment), { metadata: meta, spec: { replicas: 1 } });
      const single = {
        urn: `urn:pulumi:prod::api-stack::${patchOf(T.deployment)}::api`,
        message:
          "DeploymentPatch api runs 1 replica without an autoscaler: set api-stack:replicas to 2 or more (or enable api-stack:hpaEnabled with api-stack:hpaMinReplicas >= 2)",
      };
      // Serving, by the stack's Deployment it patches.
      assert.deepEqual(
        availability([scaleDown], {
          ...options,
          registered: [scaleDown, res(T.deployment, deployment()), res(T.pdb, pdb())],
        }),
        [single],
      );
      // Serving, by its own template.
      const withPort = res(patchOf(T.deployment), {
        metadata: meta,
        spec: { replicas: 1, template: { spec: { containers: [{ name: "api", ports: [{ containerPort: 8000 }] }] } } },
      });
      assert.deepEqual(availability([withPort], options), [single]);
      // A worker, or a workload the stack does not show, serves nothing the pack can see; an autoscaled one keeps its floor.
      assert.deepEqual(
        availability([scaleDown], {
          ...options,
          registered: [scaleDown, res(T.deployment, { ...workerDeployment(), metadata: meta })],
        }),
        [],
      );
      assert.deepEqual(availability([scaleDown], options), []);
      assert.deepEqual(
        availability([scaleDown], {
          ...options,
          registered: [scaleDown, res(T.deployment, deployment()), res(T.hpa, hpa(3))],
        }),
        [],
      );
      assert.deepEqual(
        availability(
          [res(patchOf(T.deployment), { metadata: meta, spec: { template: withPort.props.spec.template } })],
          options,
        ),
        [],
      );
    });
  });

  describe("advisory rules", () => {
    it("recommended-labels: passes the program's labels, names the missing ones", () => {
      assert.deepEqual(recommendedLabels(T.service, service()), []);
      const object = service();
      object.metadata = {
        name: "api",
        labels: {
          "app.kubernetes.io/name": "api",
          "app.kubernetes.io/instance": "api-prod",
          "app.kubernetes.io/component": "api",
        },
      };
      // A Service is not asked for a version: a release must not touch it.
      assert.deepEqual(recommendedLabels(T.service, object), [
        "Service lacks the recommended labels app.kubernetes.io/part-of, app.kubernetes.io/managed-by: label it as the program's naming does (from api-stack:appName, api-stack:environment and api-stack:appVersion), so dashboards, selectors and kubectl can find it",
      ]);
      const workload = deployment();
      delete workload.metadata.labels["app.kubernetes.io/version"];
      assert.deepEqual(recommendedLabels(T.deployment, workload), [
        "Deployment lacks the recommended label app.kubernetes.io/version: label it as the program's naming does (from api-stack:appName, api-stack:environment and api-stack:appVersion), so dashboards, selectors and kubectl can find it",
      ]);
      // Providers and the components that render third-party manifests are not objects.
      assert.deepEqual(recommendedLabels("kubernetes:yaml/v2:ConfigFile", { file: "install.yaml" }), []);
    });

    it("prometheus-scrape: API pods only, naming the missing annotations", () => {
      assert.deepEqual(prometheusScrape(T.deployment, deployment()), []);
      assert.deepEqual(prometheusScrape(T.deployment, workerDeployment()), []);
      const object = deployment();
      object.spec.template.metadata.annotations = { "prometheus.io/scrape": "false", "prometheus.io/port": "8000" };
      assert.deepEqual(prometheusScrape(T.deployment, object), [
        'API pods lack the Prometheus annotations prometheus.io/scrape: "true", prometheus.io/path on the pod template: add them so /metrics is scraped (the program adds them to every API pod)',
      ]);
    });

    it("topology-spread: multi-replica API workloads only", () => {
      assert.deepEqual(topologySpread(T.deployment, deployment()), []);
      const object = deployment();
      delete object.spec.template.spec.topologySpreadConstraints;
      assert.deepEqual(topologySpread(T.deployment, object), [
        "Deployment runs 3 API replicas without topologySpreadConstraints: spread them over topology.kubernetes.io/zone and kubernetes.io/hostname so one zone or node failure cannot take them all (the program does when api-stack:replicas or api-stack:hpaMaxReplicas is above 1)",
      ]);
      // Without a count the HPA scales it, possibly to many pods.
      delete object.spec.replicas;
      assert.deepEqual(topologySpread(T.deployment, object), [
        "Deployment runs autoscaled API replicas without topologySpreadConstraints: spread them over topology.kubernetes.io/zone and kubernetes.io/hostname so one zone or node failure cannot take them all (the program does when api-stack:replicas or api-stack:hpaMaxReplicas is above 1)",
      ]);
      object.spec.replicas = 1;
      assert.deepEqual(topologySpread(T.deployment, object), []);
    });
  });
});

// --- scoping and config -----------------------------------------------------------------------

describe("policy pack", () => {
  const urn = (stack: string, type: string, name = "api", parents: string[] = []) =>
    `urn:pulumi:${stack}::api-stack::${[...parents, type].join("$")}::${name}`;

  it("judges an object by the strictest of its stack's environment and its label's", () => {
    const labelled = (instance: string) => {
      const object = deployment();
      object.metadata.labels["app.kubernetes.io/instance"] = instance;
      object.spec.template.metadata.labels["app.kubernetes.io/instance"] = instance;
      return object;
    };
    // A dev label cannot drop prod rules in a prod stack; a prod label adds them in a dev one.
    assert.equal(environmentOf(T.deployment, labelled("my-api-dev"), urn("prod", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-staging"), urn("eu-prod", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-prod"), urn("dev", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-staging"), urn("dev", T.deployment)), "staging");
    assert.equal(environmentOf(T.deployment, labelled("api-dev"), urn("dev", T.deployment)), "dev");
    // The object's label and its pod template's count alike.
    const mixed = labelled("api-dev");
    mixed.spec.template.metadata.labels["app.kubernetes.io/instance"] = "api-staging";
    assert.equal(environmentOf(T.deployment, mixed, urn("dev", T.deployment)), "staging");
    // A stack whose name says no environment, or no stack at all, is prod.
    assert.equal(environmentOf(T.deployment, labelled("api-dev"), urn("alice", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-dev")), "prod");
    const unlabelled = { kind: "Service", metadata: { name: "x" } };
    assert.equal(environmentOf(T.service, unlabelled, urn("dev", T.service)), "dev");
    assert.equal(environmentOf(T.service, unlabelled, urn("eu-production", T.service)), "prod");
    assert.equal(environmentOf(T.service, unlabelled, urn("staging", T.service)), "staging");
    assert.equal(environmentOf(T.service, unlabelled, urn("alice", T.service)), "prod");
    assert.equal(stackOf(urn("eu-prod", T.service)), "eu-prod");
  });

  it("reads kinds by group, whatever the version, and Patch resources as the kind they patch", () => {
    assert.deepEqual(kubeType(patchOf(T.deployment)), {
      group: "apps",
      version: "v1",
      kind: "Deployment",
      patch: true,
    });
    assert.deepEqual(kubeType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"), {
      group: "apiextensions.k8s.io",
      version: "v1",
      kind: "CustomResourceDefinition",
      patch: false,
    });
    assert.equal(groupKind("kubernetes:argoproj.io/v1alpha1:RolloutPatch"), "argoproj.io/Rollout");
    assert.equal(groupKind("kubernetes:extensions/v1beta1:Ingress"), "extensions/Ingress");
    assert.equal(kubeType("pulumi:providers:kubernetes"), undefined);
    // A core kind made through a CustomResource has no group in its token.
    assert.equal(groupKind("kubernetes:v1:Pod"), "core/Pod");
    const pod = POD_BEARING.find(([type]) => type === T.pod)![1]();
    pod.spec.hostNetwork = true;
    assert.equal(hostNamespaces("kubernetes:v1:PodPatch", pod).length, 1);
  });

  describe("objects rendered from manifests and charts", () => {
    const chain = ["api-stack:index:ApiStack", "api-stack:index:Delivery"];
    const component = urn("prod", "kubernetes:yaml/v2:ConfigFile", "api-argo-rollouts", chain);
    const rendered = (kind = T.deployment, props: Props = argo()): StackResource => ({
      type: kind,
      props,
      urn: urn("prod", kind, "argo-rollouts:argo-rollouts/argo-rollouts", [...chain, "kubernetes:yaml/v2:ConfigFile"]),
      parent: component,
    });
    function argo(): Props {
      const object = deployment();
      apiContainer(object).image = "quay.io/argoproj/argo-rollouts:v1.9.3";
      object.spec.replicas = 1;
      delete object.metadata.labels;
      return object;
    }
    const HINT =
      " [rendered by api-argo-rollouts: change its manifest or chart values, or exempt it in this policy's config (docs/policy.md, Exemptions)]";

    it("knows an object by the component that rendered it, of every renderer", () => {
      assert.equal(renderedBy(rendered()), component);
      for (const renderer of [
        "kubernetes:yaml:ConfigFile",
        "kubernetes:yaml:ConfigGroup",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:helm.sh/v3:Chart",
        "kubernetes:helm.sh/v4:Chart",
        "kubernetes:kustomize/v2:Directory",
      ]) {
        const parent = urn("prod", renderer, "third-party", chain);
        assert.equal(
          renderedBy({ type: T.deployment, urn: urn("prod", T.deployment, "x", [...chain, renderer]), parent }),
          parent,
          renderer,
        );
      }
      // The program's own objects, children of its own components, were rendered by nobody.
      assert.equal(
        renderedBy({
          type: T.deployment,
          urn: urn("prod", T.deployment, "api", chain),
          parent: urn("prod", chain[1], "api", chain.slice(0, 1)),
        }),
        undefined,
      );
      // A Helm release stands for the objects it hides.
      const helm = urn("prod", T.helmRelease, "ingress-nginx", chain);
      assert.equal(renderedBy({ type: T.helmRelease, urn: helm, parent: component }), helm);
    });

    it("checks them like any other object, and says where they come from", () => {
      assert.deepEqual(
        evaluate([rendered()]).map((f) => [f.policy, f.message.endsWith(HINT)]),
        [
          ["image-digest", true],
          ["availability", true],
          ["availability", true],
          ["recommended-labels", true],
        ],
      );
      // Without a parent the pack cannot name the component: checked all the same, and not exemptable.
      const orphan = { ...rendered(), parent: undefined };
      assert.equal(
        evaluate([orphan], { "image-digest": { exempt: [{ component: "api-argo-rollouts", reason: "r" }] } }).filter(
          (f) => f.policy === "image-digest",
        ).length,
        1,
      );
    });

    it("exempts one only where a policy's config names its component, by name or URN, and optionally its kind", () => {
      const policiesOf = (config: PackConfig) => evaluate([rendered()], config).map((f) => f.policy);
      const reason = "Argo publishes its controller by tag; the platform team mirrors and scans it";
      assert.deepEqual(policiesOf({ "image-digest": { exempt: [{ component: "api-argo-rollouts", reason }] } }), [
        "availability",
        "availability",
        "recommended-labels",
      ]);
      assert.deepEqual(policiesOf({ availability: { exempt: [{ component, kinds: ["Deployment"], reason }] } }), [
        "image-digest",
        "recommended-labels",
      ]);
      assert.deepEqual(
        policiesOf({ availability: { exempt: [{ component, kinds: ["CustomResourceDefinition"], reason }] } }),
        ["image-digest", "availability", "availability", "recommended-labels"],
      );
      assert.deepEqual(policiesOf({ availability: { exempt: [{ component: "another-chart", reason }] } }), [
        "image-digest",
        "availability",
        "availability",
        "recommended-labels",
      ]);
      // The program's own objects are never exempt, whatever the config names.
      const own = {
        type: T.deployment,
        props: argo(),
        urn: urn("prod", T.deployment, "api", chain),
        parent: urn("prod", chain[1], "api", chain.slice(0, 1)),
      };
      assert.deepEqual(
        evaluate([own], { "image-digest": { exempt: [{ component: "api", reason }] } }).map((f) => f.policy),
        ["image-digest", "availability", "availability", "recommended-labels"],
      );
    });

    it("refuses a Helm Release, whose objects no policy sees, unless its own name is exempt", () => {
      const props = {
        chart: "ingress-nginx",
        version: "4.11.0",
        repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" },
      };
      const message =
        "Helm Release of chart ingress-nginx installs objects that only Helm sees, so no policy can check them: install the chart with kubernetes.helm.v4.Chart, which registers each object, or exempt this release in the visible-objects policy config (docs/policy.md, Exemptions)";
      assert.deepEqual(visibleObjects(T.helmRelease, props), [message]);
      assert.deepEqual(visibleObjects("kubernetes:helm.sh/v4:Chart", { chart: "ingress-nginx" }), []);
      const helm = {
        type: T.helmRelease,
        props,
        urn: urn("dev", T.helmRelease, "ingress-nginx", chain),
        parent: urn("dev", chain[1], "api", chain.slice(0, 1)),
      };
      assert.deepEqual(
        evaluate([helm]).map((f) => f.policy),
        ["visible-objects"],
      );
      assert.deepEqual(
        evaluate([helm], {
          "visible-objects": { exempt: [{ component: "ingress-nginx", reason: "the cluster's ingress controller" }] },
        }),
        [],
      );
    });
  });

  it("registers one policy per rule, mandatory unless advisory by design", () => {
    const pack = policies();
    assert.deepEqual(
      pack.map((p) => [p.name, p.enforcementLevel]),
      [
        ["pod-security", "mandatory"],
        ["host-namespaces", "mandatory"],
        ["host-path", "mandatory"],
        ["host-ports", "mandatory"],
        ["resources", "mandatory"],
        ["probes", "mandatory"],
        ["image-digest", "mandatory"],
        ["no-external-service", "mandatory"],
        ["ingress-tls", "mandatory"],
        ["gateway-tls", "mandatory"],
        ["explicit-hosts", "mandatory"],
        ["no-secrets-in-configmap", "mandatory"],
        ["blue-green-promotion", "mandatory"],
        ["availability", "mandatory"],
        ["visible-objects", "mandatory"],
        ["recommended-labels", "advisory"],
        ["prometheus-scrape", "advisory"],
        ["topology-spread", "advisory"],
      ],
    );
    assert.ok(pack.every((p) => p.configSchema.properties.environments.type === "array"));
    assert.deepEqual(pack.find((p) => p.name === "image-digest")!.configSchema.properties.environments.default, [
      "prod",
    ]);
    assert.deepEqual(pack.find((p) => p.name === "pod-security")!.configSchema.properties.environments.default, [
      "dev",
      "staging",
      "prod",
    ]);
    // Exemptions are off by default, for every policy; the other options belong to one policy each.
    assert.ok(
      pack.every(
        (p) =>
          p.configSchema.properties.exempt.type === "array" && p.configSchema.properties.exempt.default.length === 0,
      ),
    );
    assert.deepEqual(
      pack
        .filter((p) => Object.keys(p.configSchema.properties).length > 2)
        .map((p) => [p.name, Object.keys(p.configSchema.properties).slice(2)]),
      [
        ["gateway-tls", ["httpsListeners"]],
        ["availability", ["minReplicas"]],
      ],
    );
  });

  describe("as the engine calls it", () => {
    class NotApplicable extends Error {}
    const call = (
      policyName: string,
      type: string,
      props: Props,
      config: object = {},
      stack = "prod",
      parent?: string,
    ) => {
      const policy = policies().find((p) => p.name === policyName)!;
      assert.ok("validateResource" in policy);
      const reported: string[] = [];
      const args: ResourceValidationArgs = {
        type,
        props,
        urn: urn(stack, type),
        opts: { parent },
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
          throw new NotApplicable(reason);
        },
      };
      try {
        policy.validateResource(args, (message) => reported.push(message));
      } catch (e) {
        if (e instanceof NotApplicable) {
          return `not applicable: ${e.message}`;
        }
        throw e;
      }
      return reported;
    };
    const tagged = () => {
      const object = deployment();
      apiContainer(object).image = "registry.example.com/platform/api:v2";
      return object;
    };
    const dev = (object: Props) => {
      object.metadata.labels["app.kubernetes.io/instance"] = "api-dev";
      object.spec.template.metadata.labels["app.kubernetes.io/instance"] = "api-dev";
      return object;
    };

    it("reports a prod object's violations", () => {
      assert.deepEqual(call("image-digest", T.deployment, tagged()), imageDigest(T.deployment, tagged()));
      assert.equal((call("image-digest", T.deployment, tagged()) as string[]).length, 1);
    });

    it("calls a prod-only rule not applicable to a dev object, unless its config widens it", () => {
      assert.equal(
        call("image-digest", T.deployment, dev(tagged()), {}, "dev"),
        "not applicable: checks prod objects; this one is dev",
      );
      assert.equal(
        (call("image-digest", T.deployment, dev(tagged()), { environments: ["dev", "prod"] }, "dev") as string[])
          .length,
        1,
      );
      // A dev label in a prod stack is prod.
      assert.equal((call("image-digest", T.deployment, dev(tagged())) as string[]).length, 1);
      assert.equal(
        call("pod-security", T.deployment, deployment(), { environments: ["dev"] }),
        "not applicable: checks dev objects; this one is prod",
      );
    });

    it("checks a stack's serving workloads in prod only", () => {
      const policy = policies().find((p) => p.name === "availability")!;
      assert.ok("validateStack" in policy);
      const single = deployment();
      single.spec.replicas = 1;
      const run = (props: Props, config: object, stack = "prod", parents: string[] = []) => {
        const reported: [string, string | undefined][] = [];
        const parent = parents.length > 0 ? urn(stack, parents.at(-1)!, "chart", parents.slice(0, -1)) : undefined;
        policy.validateStack(
          {
            resources: [{ type: T.deployment, props, urn: urn(stack, T.deployment, "api", parents), opts: { parent } }],
            getConfig: <T extends object>() => config as T,
            notApplicable: (): never => {
              throw new Error("unexpected");
            },
          },
          (message, at) => reported.push([message, at]),
        );
        return reported.map(([message, at]) => `${at}: ${message.split(":")[0]}`);
      };
      assert.deepEqual(run(single, {}), [
        `${urn("prod", T.deployment)}: Deployment api runs 1 replica without an autoscaler`,
        `${urn("prod", T.deployment)}: Deployment api has no PodDisruptionBudget, so a node drain may evict all its pods at once`,
      ]);
      assert.deepEqual(run(dev(clone(single)), {}, "dev"), []);
      assert.equal(run(dev(clone(single)), {}).length, 2);
      assert.equal(run(single, { minReplicas: 1 }).length, 1);
      // Rendered by a chart: checked, and exempt only by the config.
      const chart = ["kubernetes:helm.sh/v4:Chart"];
      assert.equal(run(single, {}, "prod", chart).length, 2);
      assert.deepEqual(
        run(single, { exempt: [{ component: "chart", reason: "the chart's own replica count" }] }, "prod", chart),
        [],
      );
    });

    it("calls an exempt rendered object not applicable, with the config's reason, and points at the component otherwise", () => {
      const parents = ["api-stack:index:ApiStack", "kubernetes:helm.sh/v4:Chart"];
      const chart = urn("prod", "kubernetes:helm.sh/v4:Chart", "metrics-server", parents.slice(0, 1));
      const policy = policies().find((p) => p.name === "image-digest")!;
      assert.ok("validateResource" in policy);
      const check = (config: object) => {
        const reported: string[] = [];
        try {
          policy.validateResource(
            {
              type: T.deployment,
              props: tagged(),
              urn: urn("prod", T.deployment, "metrics-server", parents),
              opts: { parent: chart },
              getConfig: <T extends object>() => config as T,
              notApplicable: (reason?: string): never => {
                throw new NotApplicable(reason);
              },
            },
            (message) => reported.push(message),
          );
        } catch (e) {
          return `not applicable: ${(e as Error).message}`;
        }
        return reported;
      };
      assert.deepEqual(check({}), [
        `${imageDigest(T.deployment, tagged())[0]} [rendered by metrics-server: change its manifest or chart values, or exempt it in this policy's config (docs/policy.md, Exemptions)]`,
      ]);
      assert.equal(
        check({
          exempt: [
            {
              component: "metrics-server",
              kinds: ["Deployment"],
              reason: "the chart pins tags; mirrored by the platform team",
            },
          ],
        }),
        "not applicable: exempt by the policy config as rendered by metrics-server: the chart pins tags; mirrored by the platform team",
      );
    });

    it("resolves enforcement levels as the CLI does: the policy's entry over all over the default", () => {
      const rule = RULES.find((r) => r.name === "probes")!;
      assert.equal(settingsFor(rule).enforcementLevel, "mandatory");
      assert.equal(settingsFor(rule, { all: "advisory" }).enforcementLevel, "advisory");
      assert.equal(
        settingsFor(rule, { all: "advisory", probes: { enforcementLevel: "mandatory" } }).enforcementLevel,
        "mandatory",
      );
      assert.equal(settingsFor(rule, { probes: "disabled" }).enforcementLevel, "disabled");
      const config: PackConfig = { all: "advisory", "image-digest": "disabled" };
      const findings = evaluate([{ type: T.deployment, props: tagged(), urn: urn("prod", T.deployment) }], config);
      assert.deepEqual(
        findings.map((f) => [f.policy, f.enforcementLevel]),
        [["availability", "advisory"]],
      );
    });
  });
});

// --- the pack's copy of release identity -------------------------------------------------------

/** The program's release identity, with the image references it is defined over. */
const release = { ...releaseIdentity, ...imageReference };

describe("the policy pack's release identity (policy/release.ts) is the program's (components/release.ts)", () => {
  const hex = "0123456789abcdef".repeat(4);
  const VALID = [
    `registry.example.com/platform/api@sha256:${hex}`,
    `127.0.0.1:5000/api-stack/fastapi:dev@sha256:${hex}`,
    `postgres@sha256:${"f".repeat(64)}`,
    IMAGE,
  ];
  const INVALID = [
    "registry.example.com/platform/api:v2",
    "registry.example.com/platform/api",
    `api@sha256:${hex.slice(1)}`,
    `api@sha256:${hex}0`,
    `api@sha256:${hex.toUpperCase()}`,
    `api@sha512:${hex}`,
    `api@${hex}`,
    `@sha256:${hex}`,
    `a b@sha256:${hex}`,
    `a@b@sha256:${hex}`,
    ` api@sha256:${hex}`,
    `api@sha256:${hex}\n`,
    "",
  ];

  it("has the same length and patterns", () => {
    assert.equal(packRelease.RELEASE_ID_LENGTH, release.RELEASE_ID_LENGTH);
    for (const name of ["RELEASE_ID_PATTERN", "DIGEST_REF_PATTERN"] as const) {
      assert.equal(packRelease[name].source, release[name].source, name);
      assert.equal(packRelease[name].flags, release[name].flags, name);
    }
    assert.equal(packRelease.PROMOTION_ANNOTATION, release.PROMOTION_ANNOTATION);
  });

  it("gives the same answers on valid and invalid image references", () => {
    for (const ref of VALID) {
      assert.ok(release.DIGEST_REF_PATTERN.test(ref) && packRelease.DIGEST_REF_PATTERN.test(ref), ref);
      assert.equal(packRelease.releaseIdOf(ref), release.releaseId(ref), ref);
      assert.ok(packRelease.RELEASE_ID_PATTERN.test(release.releaseId(ref)), ref);
      assert.deepEqual(
        imageDigest(T.deployment, { spec: { template: { spec: { containers: [{ name: "api", image: ref }] } } } }),
        [],
        ref,
      );
    }
    for (const ref of INVALID) {
      assert.throws(
        () => release.parseDigestRef(ref),
        new RegExp(`"${ref.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`),
        JSON.stringify(ref),
      );
      assert.equal(packRelease.releaseIdOf(ref), undefined, JSON.stringify(ref));
      assert.equal(
        imageDigest(T.deployment, { spec: { template: { spec: { containers: [{ name: "api", image: ref }] } } } })
          .length,
        1,
        JSON.stringify(ref),
      );
    }
  });

  it("reads every promotion record the program writes, and nothing else", () => {
    for (const source of packRelease.PROMOTION_SOURCES) {
      assert.deepEqual(packRelease.readPromotionRecord(release.promotionRecord(source, IMAGE)), {
        source,
        release: release.releaseId(IMAGE),
      });
    }
    for (const value of [
      "yes",
      "promote",
      "promote:",
      ":222222222222",
      "promote:22222222222",
      "promote:2222222222222",
      "promote:22222222222G",
      "later:222222222222",
      "promote:222222222222:x",
    ]) {
      assert.equal(packRelease.readPromotionRecord(value), undefined, value);
    }
  });
});

// --- whole stacks under mocks -----------------------------------------------------------------

const PROMETHEUS = "http://prometheus.monitoring.svc:9090";
const manifests = (run: RunResult, stack: string): StackResource[] =>
  run.resources.map((r) => ({
    type: r.type,
    props: asManifest(r),
    urn: `urn:pulumi:${stack}::api-stack::${r.type}::${r.name}`,
  }));
const mandatory = (findings: Finding[]) =>
  findings.filter((f) => f.enforcementLevel === "mandatory").map((f) => `${f.policy}: ${f.urn}: ${f.message}`);

/**
 * The contract the pack needs from the program for blue-green Rollouts (PROMOTION_ANNOTATION):
 * the program records what promoted a release exactly when it auto-promotes it.
 */
function withPromotionRecord(resources: StackResource[], expected: string | undefined): StackResource[] {
  const rollout = resources.find((r) => r.type === T.rollout)!;
  assert.equal(
    rollout.props.metadata.annotations?.["api-stack.io/promotion"],
    expected,
    "the program's promotion record",
  );
  return resources;
}

describe("policy pack over whole stacks (mocks)", () => {
  // Prod verifies its prebuilt image as signed before registering anything.
  withCosign();
  for (const [stack, input] of [
    ["dev", devInput],
    ["prod", prodInput],
  ] as const) {
    it(`${stack}: the rolling stack violates no rule, mandatory or advisory`, async () => {
      const run = await runProgram(input(), { stack });
      const findings = evaluate(manifests(run, stack));
      assert.deepEqual(findings, []);
    });

    it(`${stack}: a canary stack violates no mandatory rule`, async () => {
      const run = await runProgram(withConfig(input(), { strategy: "canary", prometheusAddress: PROMETHEUS }), {
        stack,
      });
      assert.deepEqual(mandatory(evaluate(manifests(run, stack))), []);
    });

    it(`${stack}: a blue-green stack's first release violates no mandatory rule`, async () => {
      const run = await runProgram(withConfig(input(), { strategy: "blueGreen" }), { stack });
      const release = String(run.outputs.image).split("@sha256:")[1].slice(0, 12);
      const resources = withPromotionRecord(manifests(run, stack), `active:${release}`);
      assert.deepEqual(mandatory(evaluate(resources)), []);
    });
  }

  it("dev: the in-cluster Postgres and Redis are why probes is a prod rule", async () => {
    const run = await runProgram(devInput(), { stack: "dev" });
    const findings = evaluate(manifests(run, "dev"), { probes: { environments: ["dev", "staging", "prod"] } });
    assert.deepEqual(findings.map((f) => f.message).sort(), [
      'container "postgres" serves port 5432 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      'container "redis" serves port 6379 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
    ]);
  });

  describe("prod blue-green across updates", () => {
    const [V1, V2, V3] = [ref("1"), ref("2"), ref("3")];
    /** A cluster in which prod's API serves `active`, as an earlier update left it. */
    const serving = (active: string): Record<string, LiveRelease> => ({ "api-prod/api": { kind: "live", active } });
    const update = (image: string, previousActive: string, extra: Record<string, string> = {}) =>
      runProgram(withConfig(prodInput(), { imageRef: image, strategy: "blueGreen", ...extra }), {
        stack: "prod",
        cluster: serving(previousActive),
      });

    it("a release waiting in preview passes", async () => {
      const run = await update(V2, V1);
      assert.deepEqual(mandatory(evaluate(withPromotionRecord(manifests(run, "prod"), undefined))), []);
    });

    it("a release promoted by config passes", async () => {
      const run = await update(V2, V1, { promote: "222222222222" });
      assert.deepEqual(mandatory(evaluate(withPromotionRecord(manifests(run, "prod"), "promote:222222222222"))), []);
    });

    it("a rollback by config passes", async () => {
      const run = await runProgram(withConfig(prodInput(), { strategy: "blueGreen", rollbackTo: V1 }), {
        stack: "prod",
        cluster: serving(V3),
      });
      assert.deepEqual(mandatory(evaluate(withPromotionRecord(manifests(run, "prod"), "rollbackTo:111111111111"))), []);
    });

    it("an auto-promotion without a record, or one that stuck to the last release, is refused", async () => {
      const run = await update(V2, V1, { promote: "222222222222" });
      const unrecorded = manifests(run, "prod");
      const rollout = unrecorded.find((r) => r.type === T.rollout)!;
      assert.equal(rollout.props.spec.strategy.blueGreen.autoPromotionEnabled, true);
      delete rollout.props.metadata.annotations?.["api-stack.io/promotion"];
      assert.deepEqual(
        evaluate(unrecorded).map((f) => [f.policy, f.enforcementLevel]),
        [["blue-green-promotion", "mandatory"]],
      );
      // The next image under the same record: what a sticky promote would deploy.
      const sticky = withPromotionRecord(manifests(run, "prod"), "promote:222222222222");
      apiContainer(sticky.find((r) => r.type === T.rollout)!.props).image = V3;
      assert.deepEqual(mandatory(evaluate(sticky)), [
        `blue-green-promotion: urn:pulumi:prod::api-stack::${T.rollout}::api: Rollout auto-promotes release 333333333333 but api-stack:promote names release 222222222222: a promotion applies to exactly one release; set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then promote it with \`pulumi config set promote 333333333333\` (api-stack:promote)`,
      ]);
    });
  });

  // What the config refuses in prod never reaches the pack from this program; the pack still
  // refuses it from anywhere else (another program, a Patch, a chart). These take the program's
  // prod objects and change them where the config stops the program itself.
  describe("prod variations", () => {
    type Overrides = Record<string, string | number | boolean | object | undefined>;
    const prod = (overrides: Overrides = {}) => runProgram(withConfig(prodInput(), overrides), { stack: "prod" });
    const resourcesOf = async (overrides: Overrides = {}) => manifests(await prod(overrides), "prod");
    /** The object a resource of the program registered, by its Pulumi type and name. */
    const objectOf = (resources: StackResource[], type: string, name: string) =>
      resources.find((r) => r.urn?.endsWith(`::${type}::${name}`))!.props;

    it("a backup Job's image pinned only by a tag is refused", async () => {
      await assert.rejects(
        prod({ backupImage: "postgres:16-alpine" }),
        /api-stack:backupImage: "postgres:16-alpine" is refused in prod/,
      );
      const resources = await resourcesOf();
      assert.deepEqual(mandatory(evaluate(resources)), [], "the default backupImage is pinned by digest");
      apiContainer(objectOf(resources, T.job, "api-backup")).image = "postgres:16-alpine";
      assert.deepEqual(mandatory(evaluate(resources)), [
        `image-digest: urn:pulumi:prod::api-stack::${T.job}::api-backup: container "backup" image "postgres:16-alpine" is pinned only by the tag 16-alpine, which can be moved: pin it by digest, as repository@sha256:<digest> (api-stack:backupImage; the app's image is pinned when the program builds it)`,
      ]);
    });

    it("without the HPA, the replica count must keep two pods", async () => {
      await assert.rejects(
        prod({ hpaEnabled: false, replicas: 1 }),
        /api-stack:pdbMaxUnavailable: 1 is refused in prod; with api-stack:replicas 1/,
      );
      const resources = await resourcesOf({ hpaEnabled: false });
      assert.deepEqual(mandatory(evaluate(resources)), []);
      objectOf(resources, T.rollout, "api").spec.replicas = 1;
      assert.deepEqual(mandatory(evaluate(resources)), [
        `availability: urn:pulumi:prod::api-stack::${T.rollout}::api: Rollout api runs 1 replica without an autoscaler: set api-stack:replicas to 2 or more (or enable api-stack:hpaEnabled with api-stack:hpaMinReplicas >= 2)`,
      ]);
    });

    it("an HPA floor of 1 and plain HTTP are refused", async () => {
      const refused = prod({ hpaMinReplicas: 1, ingressTls: false });
      await assert.rejects(refused, /api-stack:ingressTls: false is refused in prod/);
      await assert.rejects(
        refused,
        /api-stack:pdbMaxUnavailable: 1 is refused in prod; with api-stack:hpaMinReplicas 1/,
      );
      const resources = await resourcesOf();
      objectOf(resources, T.hpa, "api").spec.minReplicas = 1;
      // What the program writes for an Ingress without TLS.
      const ingress = objectOf(resources, T.ingress, "api");
      delete ingress.spec.tls;
      delete ingress.metadata.annotations["cert-manager.io/cluster-issuer"];
      delete ingress.metadata.annotations["nginx.ingress.kubernetes.io/ssl-redirect"];
      assert.deepEqual(mandatory(evaluate(resources)), [
        `ingress-tls: urn:pulumi:prod::api-stack::${T.ingress}::api: Ingress serves api.example.com over plain HTTP: set api-stack:ingressTls to true so cert-manager (api-stack:clusterIssuer) issues a certificate and spec.tls lists the host`,
        `availability: urn:pulumi:prod::api-stack::${T.hpa}::api: HorizontalPodAutoscaler api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more`,
      ]);
    });
  });
});
