// The api-stack policy pack (policy/): every rule against a violating and a passing object,
// how the pack scopes rules to environments and reads its config, and the dev and prod stacks
// (rolling, blue-green, canary) under mocks, which must not violate any mandatory rule.
import { strict as assert } from "node:assert";
import { naming as makeNaming } from "../../components/names";
import { deploymentSpec, migrationJobSpec, podTemplate, type PodInput } from "../../components/workload/spec";
import { environmentOf, fromThirdPartyManifest, stackOf, type Props } from "../../policy/kube";
import { evaluate, policies, settingsFor, type Finding, type PackConfig, type ResourceValidationArgs } from "../../policy/pack";
import {
  availability,
  blueGreenPromotion,
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
  type StackResource,
} from "../../policy/rules";
import { asManifest, devInput, prodInput, runProgram, withConfig, type RunResult } from "./harness";

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
};

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
  spec: { type, selector: names.selector("api"), ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
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
        http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } }] },
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
const hpa = (minReplicas: number | undefined, target = { apiVersion: "apps/v1", kind: "Deployment", name: "api" }): Props => ({
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

// --- the rules, one by one --------------------------------------------------------------------

describe("policy rules", () => {
  describe("pod-security", () => {
    it("passes the program's API, worker and migration pods and a locked-down bare Pod", () => {
      assert.deepEqual(podSecurity(T.deployment, deployment()), []);
      assert.deepEqual(podSecurity(T.deployment, workerDeployment()), []);
      assert.deepEqual(podSecurity(T.job, migrationJob()), []);
      assert.deepEqual(podSecurity(T.rollout, rollout(false)), []);
      const template = apiTemplate();
      assert.deepEqual(podSecurity(T.pod, { apiVersion: "v1", kind: "Pod", metadata: metadata("api"), spec: template.spec }), []);
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
      const init = { name: "wait-for-db", image: IMAGE, securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } };
      const object = migrationJob();
      object.spec.template.spec.initContainers = [init];
      object.spec.template.spec.securityContext.runAsNonRoot = false;
      assert.deepEqual(podSecurity(T.job, object), [
        'init container "wait-for-db" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
        // The app container's own runAsNonRoot: true still holds.
      ]);
      const statefulSet = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: metadata("api"), spec: { template: { spec: { containers: [{ name: "db", image: IMAGE }] } } } };
      assert.equal(podSecurity(T.statefulSet, statefulSet).length, 5);
      const bare = rollout(false);
      apiContainer(bare).securityContext.readOnlyRootFilesystem = false;
      assert.deepEqual(podSecurity(T.rollout, bare), [
        'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (such as /tmp)',
      ]);
      assert.equal(podSecurity(T.pod, { kind: "Pod", metadata: {}, spec: { containers: [{ name: "x", image: IMAGE }] } }).length, 5);
    });

    it("ignores objects without pods", () => {
      assert.deepEqual(podSecurity(T.service, service()), []);
      // A Rollout that borrows a Deployment's template through workloadRef has no pods of its own.
      assert.deepEqual(podSecurity(T.rollout, { kind: "Rollout", spec: { workloadRef: { kind: "Deployment", name: "api" } } }), []);
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
      object.spec.template.spec.containers[0].resources = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1" } };
      assert.deepEqual(resources(T.deployment, object), [
        'container "api" lacks resources.limits.memory: set it (for the app\'s containers: api-stack:memoryLimit)',
      ]);
    });
  });

  describe("probes", () => {
    it("passes the API (probed) and the worker (serves no port)", () => {
      assert.deepEqual(probes(T.deployment, deployment()), []);
      assert.deepEqual(probes(T.deployment, workerDeployment()), []);
    });

    it("wants liveness and readiness probes on a container that serves a port", () => {
      const object = deployment();
      delete apiContainer(object).livenessProbe;
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves port 8000 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ]);
      delete apiContainer(object).readinessProbe;
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves port 8000 without livenessProbe or readinessProbe: add them so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ]);
      apiContainer(object).ports.push({ name: "metrics", containerPort: 9100 });
      apiContainer(object).readinessProbe = { httpGet: { path: "/health/ready", port: "http" } };
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves ports 8000, 9100 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ]);
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
        ["api", "registry.example.com/platform/api:latest", `container "api" image "registry.example.com/platform/api:latest" uses the mutable tag latest: ${fix("imageRef")}`],
        ["api", "127.0.0.1:5000/api-stack/fastapi", `container "api" image "127.0.0.1:5000/api-stack/fastapi" has neither tag nor digest, so it is whatever latest is at pull time: ${fix("imageRef")}`],
        ["backup", "postgres:16-alpine", `container "backup" image "postgres:16-alpine" is pinned only by the tag 16-alpine, which can be moved: ${fix("backupImage")}`],
        ["api", "registry.example.com/platform/api@sha256:abc", `container "api" image "registry.example.com/platform/api@sha256:abc" has no valid sha256 digest: ${fix("imageRef")}`],
      ];
      for (const [name, image, message] of cases) {
        const object = deployment();
        Object.assign(apiContainer(object), { name, image });
        assert.deepEqual(imageDigest(T.deployment, object), [message]);
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
  });

  describe("no-secrets-in-configmap", () => {
    it("passes the program's settings, token lifetimes included", () => {
      assert.deepEqual(noSecretsInConfigMap(T.configMap, configMap({ REDIS_URL: "redis://api-redis.api-dev.svc.cluster.local:6379/0" })), []);
    });

    it("tells secret-looking names from settings that only talk about secrets", () => {
      for (const name of ["DB_PASSWORD", "SECRET_KEY", "GITHUB_TOKEN", "TOKEN", "SENTRY_DSN", "DATABASE_URL", "READONLY_DATABASE_URL", "STRIPE_API_KEY", "aws_secret_access_key", "APIKEY", "SMTP_CREDENTIALS"]) {
        assert.ok(looksSecret(name), name);
      }
      for (const name of ["ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_DAYS", "CACHE_KEY_PREFIX", "KEY", "REDIS_URL", "DB_POOL_SIZE", "ENVIRONMENT"]) {
        assert.ok(!looksSecret(name), name);
      }
    });

    it("refuses secret keys, naming the secret config key that feeds them", () => {
      assert.deepEqual(noSecretsInConfigMap(T.configMap, configMap({ SECRET_KEY: "x".repeat(40), STRIPE_API_KEY: "sk_live" })), [
        "ConfigMap key SECRET_KEY looks like a secret: move it to the Secret: it comes from the secret config key api-stack:secretKey (pulumi config set --secret secretKey)",
        "ConfigMap key STRIPE_API_KEY looks like a secret: move it to a Secret and read it through envFrom.secretRef or secretKeyRef",
      ]);
    });

    it("refuses a URL that carries a password, and secret keys in binaryData", () => {
      const object = configMap({ REDIS_URL: "rediss://:hunter2@redis.internal:6380/0" });
      object.binaryData = { TLS_PRIVATE_KEY: "LS0tLS1CRUdJTg==" };
      assert.deepEqual(noSecretsInConfigMap(T.configMap, object), [
        "ConfigMap key REDIS_URL holds a URL with a password: move it to the Secret: it comes from the secret config key api-stack:redisUrl (pulumi config set --secret redisUrl)",
        "ConfigMap key TLS_PRIVATE_KEY looks like a secret: move it to a Secret and read it through envFrom.secretRef or secretKeyRef",
      ]);
    });
  });

  describe("blue-green-promotion", () => {
    it("passes a release that waits in preview, and canary Rollouts", () => {
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(false)), []);
      const canary = rollout(false);
      canary.spec.strategy = { canary: { stableService: "api", canaryService: "api-canary", steps: [{ setWeight: 10 }] } };
      assert.deepEqual(blueGreenPromotion(T.rollout, canary), []);
    });

    it("passes a promotion recorded by config for exactly this release", () => {
      for (const source of ["promote", "rollbackTo", "active"]) {
        assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": `${source}:222222222222` })), []);
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
      const wait = "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then promote it with `pulumi config set promote 222222222222` (api-stack:promote)";
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "promote:111111111111" })), [
        `Rollout auto-promotes release 222222222222 but api-stack:promote names release 111111111111: a promotion applies to exactly one release; ${wait}`,
      ]);
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "rollbackTo:111111111111" })), [
        `Rollout auto-promotes release 222222222222 but api-stack:rollbackTo names release 111111111111: a promotion applies to exactly one release; ${wait}`,
      ]);
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "active:111111111111" })), [
        `Rollout auto-promotes release 222222222222 but the active release is 111111111111: a promotion applies to exactly one release; ${wait}`,
      ]);
    });

    it("refuses autoPromote, unreadable records and images without a digest", () => {
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "autoPromote:222222222222" })), [
        "Rollout auto-promotes release 222222222222 because api-stack:autoPromote is true, which is refused in prod: unset it (pulumi config rm autoPromote) and promote each release with `pulumi config set promote 222222222222` (api-stack:promote)",
      ]);
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "yes" })), [
        'Rollout auto-promotes release 222222222222 with an unreadable api-stack.io/promotion annotation "yes" (expected promote|rollbackTo|active|autoPromote:<release id>): set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then promote it with `pulumi config set promote 222222222222` (api-stack:promote)',
      ]);
      const tagged = rollout(true, { "api-stack.io/promotion": "promote:222222222222" });
      apiContainer(tagged).image = "registry.example.com/platform/api:v2";
      assert.deepEqual(blueGreenPromotion(T.rollout, tagged), [
        'Rollout auto-promotes image "registry.example.com/platform/api:v2", which has no digest, so no promotion by config can name it: deploy a digest-pinned image and promote it with api-stack:promote',
      ]);
    });
  });

  describe("availability (stack)", () => {
    const res = (type: string, props: Props): StackResource => ({ type, props, urn: `urn:pulumi:prod::api-stack::${type}::${props.metadata.name}` });
    const options = { minReplicas: 2 };

    it("passes a serving workload with an HPA floor of 2 or more and a PDB", () => {
      assert.deepEqual(availability([res(T.deployment, deployment()), res(T.hpa, hpa(3)), res(T.pdb, pdb())], options), []);
      // Neither the worker (no port) nor a Job needs a budget.
      assert.deepEqual(availability([res(T.deployment, workerDeployment()), res(T.job, migrationJob())], options), []);
    });

    it("refuses an HPA floor of 1, explicit or by default", () => {
      for (const floor of [1, undefined]) {
        assert.deepEqual(availability([res(T.deployment, deployment()), res(T.hpa, hpa(floor)), res(T.pdb, pdb())], options), [
          {
            urn: "urn:pulumi:prod::api-stack::kubernetes:autoscaling/v2:HorizontalPodAutoscaler::api",
            message: "HorizontalPodAutoscaler api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more",
          },
        ]);
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
      assert.equal(availability([res(T.deployment, single), res(T.hpa, elsewhere), res(T.pdb, pdb())], options).length, 1);
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
      assert.deepEqual(availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, worker)], options), [message]);
      const otherNamespace = pdb();
      otherNamespace.metadata = { ...otherNamespace.metadata, namespace: "api-staging" };
      assert.deepEqual(availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, otherNamespace)], options), [message]);
      const byExpression = pdb();
      byExpression.spec.selector = { matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api"] }] };
      assert.deepEqual(availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, byExpression)], options), []);
    });
  });

  describe("advisory rules", () => {
    it("recommended-labels: passes the program's labels, names the missing ones", () => {
      assert.deepEqual(recommendedLabels(T.service, service()), []);
      const object = service();
      object.metadata = { name: "api", labels: { "app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api-prod", "app.kubernetes.io/component": "api" } };
      assert.deepEqual(recommendedLabels(T.service, object), [
        "Service lacks the recommended labels app.kubernetes.io/version, app.kubernetes.io/part-of, app.kubernetes.io/managed-by: label it as the program's naming does (from api-stack:appName, api-stack:environment and api-stack:appVersion), so dashboards, selectors and kubectl can find it",
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
      object.spec.replicas = 1;
      assert.deepEqual(topologySpread(T.deployment, object), []);
    });
  });
});

// --- scoping and config -----------------------------------------------------------------------

describe("policy pack", () => {
  const urn = (stack: string, type: string, name = "api", parents: string[] = []) =>
    `urn:pulumi:${stack}::api-stack::${[...parents, type].join("$")}::${name}`;

  it("places an object by its instance label first, then the stack name, else prod", () => {
    const labelled = deployment();
    assert.equal(environmentOf(T.deployment, labelled, urn("dev", T.deployment)), "prod");
    labelled.metadata.labels["app.kubernetes.io/instance"] = "my-api-dev";
    assert.equal(environmentOf(T.deployment, labelled, urn("prod", T.deployment)), "dev");
    const podOnly = {
      kind: "Deployment",
      metadata: { name: "api" },
      spec: { template: { metadata: { labels: { "app.kubernetes.io/instance": "api-staging" } }, spec: { containers: [] } } },
    };
    assert.equal(environmentOf(T.deployment, podOnly), "staging");
    const unlabelled = { kind: "Service", metadata: { name: "x" } };
    assert.equal(environmentOf(T.service, unlabelled, urn("dev", T.service)), "dev");
    assert.equal(environmentOf(T.service, unlabelled, urn("eu-production", T.service)), "prod");
    assert.equal(environmentOf(T.service, unlabelled, urn("staging", T.service)), "staging");
    assert.equal(environmentOf(T.service, unlabelled, urn("alice", T.service)), "prod");
    assert.equal(environmentOf(T.service, unlabelled), "prod");
    assert.equal(stackOf(urn("eu-prod", T.service)), "eu-prod");
  });

  it("leaves objects rendered from third-party manifests alone", () => {
    const parents = ["api-stack:index:ApiStack", "api-stack:index:Delivery", "kubernetes:yaml/v2:ConfigFile"];
    assert.ok(fromThirdPartyManifest(urn("prod", T.deployment, "argo-rollouts", parents)));
    assert.ok(!fromThirdPartyManifest(urn("prod", T.deployment, "api", parents.slice(0, 2))));
    assert.ok(!fromThirdPartyManifest(urn("prod", "kubernetes:yaml/v2:ConfigFile", "argo", parents.slice(0, 2))));
    const argo = deployment();
    apiContainer(argo).image = "quay.io/argoproj/argo-rollouts:v1.9.3";
    delete argo.metadata.labels;
    const resource = { type: T.deployment, props: argo, urn: urn("prod", T.deployment, "argo-rollouts", parents) };
    assert.deepEqual(evaluate([resource]), []);
    assert.deepEqual(
      evaluate([{ ...resource, urn: urn("prod", T.deployment) }]).map((f) => f.policy),
      ["image-digest", "availability", "recommended-labels"],
    );
  });

  it("registers one policy per rule, mandatory unless advisory by design", () => {
    const pack = policies();
    assert.deepEqual(
      pack.map((p) => [p.name, p.enforcementLevel]),
      [
        ["pod-security", "mandatory"],
        ["resources", "mandatory"],
        ["probes", "mandatory"],
        ["image-digest", "mandatory"],
        ["no-external-service", "mandatory"],
        ["ingress-tls", "mandatory"],
        ["no-secrets-in-configmap", "mandatory"],
        ["blue-green-promotion", "mandatory"],
        ["availability", "mandatory"],
        ["recommended-labels", "advisory"],
        ["prometheus-scrape", "advisory"],
        ["topology-spread", "advisory"],
      ],
    );
    assert.ok(pack.every((p) => p.configSchema.properties.environments.type === "array"));
    assert.deepEqual(pack.find((p) => p.name === "image-digest")!.configSchema.properties.environments.default, ["prod"]);
    assert.deepEqual(pack.find((p) => p.name === "pod-security")!.configSchema.properties.environments.default, ["dev", "staging", "prod"]);
  });

  describe("as the engine calls it", () => {
    class NotApplicable extends Error {}
    const call = (policyName: string, type: string, props: Props, config: object = {}, stack = "prod") => {
      const policy = policies().find((p) => p.name === policyName)!;
      assert.ok("validateResource" in policy);
      const reported: string[] = [];
      const args: ResourceValidationArgs = {
        type,
        props,
        urn: urn(stack, type),
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
      assert.equal(call("image-digest", T.deployment, dev(tagged())), "not applicable: checks prod objects; this one is dev");
      assert.equal((call("image-digest", T.deployment, dev(tagged()), { environments: ["dev", "prod"] }) as string[]).length, 1);
      assert.equal(call("pod-security", T.deployment, deployment(), { environments: ["dev"] }), "not applicable: checks dev objects; this one is prod");
    });

    it("checks a stack's serving workloads in prod only", () => {
      const policy = policies().find((p) => p.name === "availability")!;
      assert.ok("validateStack" in policy);
      const single = deployment();
      single.spec.replicas = 1;
      const run = (props: Props, config: object) => {
        const reported: [string, string | undefined][] = [];
        policy.validateStack(
          {
            resources: [{ type: T.deployment, props, urn: urn("prod", T.deployment) }],
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
      assert.deepEqual(run(dev(clone(single)), {}), []);
      assert.equal(run(single, { minReplicas: 1 }).length, 1);
    });

    it("resolves enforcement levels as the CLI does: the policy's entry over all over the default", () => {
      const rule = RULES.find((r) => r.name === "probes")!;
      assert.equal(settingsFor(rule).enforcementLevel, "mandatory");
      assert.equal(settingsFor(rule, { all: "advisory" }).enforcementLevel, "advisory");
      assert.equal(settingsFor(rule, { all: "advisory", probes: { enforcementLevel: "mandatory" } }).enforcementLevel, "mandatory");
      assert.equal(settingsFor(rule, { probes: "disabled" }).enforcementLevel, "disabled");
      const config: PackConfig = { all: "advisory", "image-digest": "disabled" };
      const findings = evaluate([{ type: T.deployment, props: tagged(), urn: urn("prod", T.deployment) }], config);
      assert.deepEqual(findings.map((f) => [f.policy, f.enforcementLevel]), [["availability", "advisory"]]);
    });
  });
});

// --- whole stacks under mocks -----------------------------------------------------------------

const PROMETHEUS = "http://prometheus.monitoring.svc:9090";
const manifests = (run: RunResult, stack: string): StackResource[] =>
  run.resources.map((r) => ({ type: r.type, props: asManifest(r), urn: `urn:pulumi:${stack}::api-stack::${r.type}::${r.name}` }));
const mandatory = (findings: Finding[]) =>
  findings.filter((f) => f.enforcementLevel === "mandatory").map((f) => `${f.policy}: ${f.urn}: ${f.message}`);

/**
 * The contract the pack needs from the program for blue-green Rollouts (PROMOTION_ANNOTATION):
 * the program records what promoted a release exactly when it auto-promotes it.
 */
function withPromotionRecord(resources: StackResource[], expected: string | undefined): StackResource[] {
  const rollout = resources.find((r) => r.type === T.rollout)!;
  assert.equal(rollout.props.metadata.annotations?.["api-stack.io/promotion"], expected, "the program's promotion record");
  return resources;
}

describe("policy pack over whole stacks (mocks)", () => {
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
      const run = await runProgram(withConfig(input(), { strategy: "canary", prometheusAddress: PROMETHEUS }), { stack });
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
    assert.deepEqual(
      findings.map((f) => f.message).sort(),
      [
        'container "postgres" serves port 5432 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
        'container "redis" serves port 6379 without livenessProbe: add it so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)',
      ],
    );
  });

  describe("prod blue-green across updates", () => {
    const [V1, V2, V3] = [ref("1"), ref("2"), ref("3")];
    const update = (image: string, previousActive: string, extra: Record<string, string> = {}) =>
      runProgram(withConfig(prodInput(), { imageRepository: undefined, imageRef: image, strategy: "blueGreen", ...extra }), {
        stack: "prod",
        previousOutputs: { release: { active: previousActive } },
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
        previousOutputs: { release: { active: V3 } },
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

  describe("prod variations", () => {
    const prod = (overrides: Record<string, string | number | boolean | object | undefined>) =>
      runProgram(withConfig(prodInput(), overrides), { stack: "prod" });
    const mandatoryOf = async (overrides: Record<string, string | number | boolean | object | undefined>) => mandatory(evaluate(manifests(await prod(overrides), "prod")));

    it("a backup Job's tag-pinned default image is refused until backupImage is pinned by digest", async () => {
      assert.deepEqual(await mandatoryOf({ backupEnabled: true }), [
        `image-digest: urn:pulumi:prod::api-stack::${T.job}::api-backup: container "backup" image "postgres:16-alpine" is pinned only by the tag 16-alpine, which can be moved: pin it by digest, as repository@sha256:<digest> (api-stack:backupImage; the app's image is pinned when the program builds it)`,
      ]);
      assert.deepEqual(await mandatoryOf({ backupEnabled: true, backupImage: `postgres@sha256:${"f".repeat(64)}` }), []);
    });

    it("without the HPA, the replica count must keep two pods", async () => {
      assert.deepEqual(await mandatoryOf({ hpaEnabled: false }), []);
      assert.deepEqual(await mandatoryOf({ hpaEnabled: false, replicas: 1 }), [
        `availability: urn:pulumi:prod::api-stack::${T.deployment}::api: Deployment api runs 1 replica without an autoscaler: set api-stack:replicas to 2 or more (or enable api-stack:hpaEnabled with api-stack:hpaMinReplicas >= 2)`,
      ]);
    });

    it("an HPA floor of 1 and plain HTTP are refused in prod", async () => {
      assert.deepEqual(await mandatoryOf({ hpaMinReplicas: 1, ingressTls: false }), [
        `ingress-tls: urn:pulumi:prod::api-stack::${T.ingress}::api: Ingress serves api.example.com over plain HTTP: set api-stack:ingressTls to true so cert-manager (api-stack:clusterIssuer) issues a certificate and spec.tls lists the host`,
        `availability: urn:pulumi:prod::api-stack::${T.hpa}::api: HorizontalPodAutoscaler api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more`,
      ]);
    });
  });
});
