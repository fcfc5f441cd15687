// Fixtures of the policy pack's tests: Kubernetes objects as the program builds them, from its own
// spec builders, and the kinds, patches and stack resources the tests change them into. The rules
// read these objects as untyped JSON, and so do the tests, which change them where a rule looks.
import { naming as makeNaming } from "../../../components/names";
import { deploymentSpec, migrationJobSpec, podTemplate, type PodInput } from "../../../components/workload/spec";
import { kubeType } from "../../../policy/kube";
import { podViews } from "../../../policy/pods";
import type { Finding } from "../../../policy/pack";
import type { StackResource } from "../../../policy/rules";

/** A Kubernetes object as the tests build and change it. */
export type Manifest = Record<string, any>;

export const T = {
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
  podTemplate: "kubernetes:core/v1:PodTemplate",
  knativeService: "kubernetes:serving.knative.dev/v1:Service",
  knativeConfiguration: "kubernetes:serving.knative.dev/v1:Configuration",
  knativeRevision: "kubernetes:serving.knative.dev/v1:Revision",
  scaledJob: "kubernetes:keda.sh/v1alpha1:ScaledJob",
  cloneSet: "kubernetes:apps.kruise.io/v1alpha1:CloneSet",
  kruiseStatefulSet: "kubernetes:apps.kruise.io/v1beta1:StatefulSet",
  kruiseDaemonSet: "kubernetes:apps.kruise.io/v1alpha1:DaemonSet",
  broadcastJob: "kubernetes:apps.kruise.io/v1alpha1:BroadcastJob",
  namespace: "kubernetes:core/v1:Namespace",
  clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  mutatingWebhooks: "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
  validatingWebhooks: "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
  persistentVolume: "kubernetes:core/v1:PersistentVolume",
};
/** The Patch resource of a kind: `kubernetes:apps/v1:DeploymentPatch`. */
export const patchOf = (type: string) => `${type}Patch`;

// --- fixtures: objects as the program builds them, from its own spec builders -----------------

export const names = makeNaming({ appName: "api", environment: "prod", appVersion: "0.1.0", project: "api-stack" });
export const ref = (c: string) => `registry.example.com/platform/api@sha256:${c.repeat(64)}`;
export const IMAGE = ref("2");
export const clone = <V>(value: V): V => structuredClone(value);

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
export const apiTemplate = () =>
  podTemplate(
    podInput("api", { http: { preStopSleepSeconds: 5 }, metrics: { port: 9000, annotate: true }, spread: true }),
  ) as Manifest;
export const metadata = (name: string, component: "api" | "worker" | "migration" = "api") => ({
  name,
  namespace: "api-prod",
  labels: names.labels(component),
});

export const deployment = (): Manifest =>
  clone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata("api"),
    spec: deploymentSpec({ naming: names, component: "api", replicas: 3, template: apiTemplate() }),
  });
export const workerDeployment = (): Manifest =>
  clone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata("api-worker", "worker"),
    spec: deploymentSpec({
      naming: names,
      component: "worker",
      replicas: 1,
      template: podTemplate(
        podInput("worker", {
          command: ["celery", "-A", "app.celery", "worker"],
          check: {
            liveness: ["python", "-m", "app.worker_liveness"],
            readiness: ["python", "-m", "app.worker_readiness"],
          },
          metrics: { port: 9000, annotate: true },
        }),
      ),
    }),
  });
export const migrationJob = (): Manifest =>
  clone({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadata("api-migration-222222222222", "migration"),
    spec: migrationJobSpec({
      template: podTemplate(podInput("migration", { command: ["alembic", "upgrade", "head"], restartPolicy: "Never" })),
      timeoutSeconds: 600,
    }),
  });
export const rollout = (autoPromotionEnabled: boolean, annotations?: Record<string, string>): Manifest =>
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
export const service = (type = "ClusterIP"): Manifest => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: metadata("api"),
  spec: {
    type,
    selector: names.selector("api"),
    ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
  },
});
export const ingress = (tls?: Manifest[]): Manifest => ({
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
export const configMap = (data: Record<string, string>): Manifest => ({
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
export const hpa = (
  minReplicas: number | undefined,
  target = { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
): Manifest => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: metadata("api"),
  spec: { scaleTargetRef: target, ...(minReplicas === undefined ? {} : { minReplicas }), maxReplicas: 20 },
});
export const pdb = (matchLabels: Record<string, string> = names.selector("api")): Manifest => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: metadata("api"),
  spec: { maxUnavailable: 1, selector: { matchLabels }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
});

export const apiContainer = (object: Manifest) => object.spec.template.spec.containers[0];

/**
 * How each kind that keeps one pod template holds it: the object around a template (or, for a
 * Pod and a Knative Revision, around its spec).
 */
const AROUND_TEMPLATE: Record<string, (template: Manifest) => Manifest> = {
  [T.pod]: (template) => ({ spec: template.spec }),
  [T.knativeRevision]: (template) => ({ spec: template.spec }),
  [T.podTemplate]: (template) => ({ template }),
  [T.statefulSet]: (template) => ({ spec: { serviceName: "api", template } }),
  [T.replicaSet]: (template) => ({ spec: { replicas: 3, template } }),
  [T.cronJob]: (template) => ({ spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template } } } }),
  [T.scaledJob]: (template) => ({ spec: { jobTargetRef: { template } } }),
};
const around = (type: string, template: Manifest): Manifest =>
  (AROUND_TEMPLATE[type] ?? ((t: Manifest) => ({ spec: { template: t } })))(template);
/** A kind with one pod template, around the program's API pod template. */
const aroundApi = (type: string) => (): Manifest => {
  const template = apiTemplate();
  // A kind that is a pod spec itself carries the pod's labels and annotations as its own.
  const isPod = type === T.pod || type === T.knativeRevision;
  const labelled = isPod ? { ...metadata("api"), ...template.metadata } : metadata("api");
  return clone({ kind: kubeType(type)!.kind, metadata: labelled, ...around(type, template) });
};

/**
 * Every kind that keeps one pod template at one place (so that its messages name no place), around
 * the program's pod templates: its Deployment, migration Job and Rollout as the program builds
 * them, the other kinds around its API pod template.
 */
export const POD_BEARING: [string, () => Manifest][] = [
  [T.deployment, deployment],
  [T.statefulSet, aroundApi(T.statefulSet)],
  [T.daemonSet, aroundApi(T.daemonSet)],
  [T.replicaSet, aroundApi(T.replicaSet)],
  [T.job, migrationJob],
  [T.cronJob, aroundApi(T.cronJob)],
  [T.rollout, () => rollout(false)],
  [T.pod, aroundApi(T.pod)],
  [T.podTemplate, aroundApi(T.podTemplate)],
  [T.knativeService, aroundApi(T.knativeService)],
  [T.knativeConfiguration, aroundApi(T.knativeConfiguration)],
  [T.knativeRevision, aroundApi(T.knativeRevision)],
  [T.scaledJob, aroundApi(T.scaledJob)],
  [T.cloneSet, aroundApi(T.cloneSet)],
  [T.kruiseStatefulSet, aroundApi(T.kruiseStatefulSet)],
  [T.kruiseDaemonSet, aroundApi(T.kruiseDaemonSet)],
  [T.broadcastJob, aroundApi(T.broadcastJob)],
];
/** The pod spec of an object of a kind with one pod template, to change in place. */
export const podSpec = (type: string, object: Manifest): Manifest => podViews(type, object)[0].spec;
/** The Patch resource of a pod-bearing kind that sets this much of its pod spec, and nothing else. */
export const podPatch = (type: string, spec: Manifest): [string, Manifest] => [
  patchOf(type),
  { metadata: { name: "api", namespace: "api-prod" }, ...around(type, { spec }) },
];
export const httpRoute = (parentRefs: Manifest[], hostnames: string[] | null = ["api.example.com"]): Manifest => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: metadata("api"),
  spec: {
    parentRefs,
    ...(hostnames === null ? {} : { hostnames }),
    rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "api", port: 80 }] }],
  },
});
export const certificate = { certificateRefs: [{ kind: "Secret", name: "api-tls" }] };
export const gateway = (listeners: Manifest[], namespace = "api-prod"): Manifest => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { name: "public", namespace },
  spec: { gatewayClassName: "traefik", listeners },
});

/** A resource as the stack rules get it, its object as the tests change it. */
export type Resource = StackResource & { props: Manifest };

/** A resource of the prod stack. */
export const res = (type: string, props: Manifest): Resource => ({
  type,
  props,
  urn: `urn:pulumi:prod::api-stack::${type}::${props.metadata.name}`,
});

/** The URN of a resource of the project, in a stack, under a chain of parent types. */
export const urn = (stack: string, type: string, name = "api", parents: string[] = []) =>
  `urn:pulumi:${stack}::api-stack::${[...parents, type].join("$")}::${name}`;

/** The mandatory findings, as `policy: urn: message`. */
export const mandatory = (findings: Finding[]) =>
  findings.filter((f) => f.enforcementLevel === "mandatory").map((f) => `${f.policy}: ${f.urn}: ${f.message}`);
