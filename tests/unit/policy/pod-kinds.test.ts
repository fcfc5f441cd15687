// Pods described inside other kinds: several pod templates in one object (Argo analyses and
// experiments, batch and training operators, Ray clusters) and Argo Workflows, whose templates
// describe pods in their own terms. Every pod rule judges each of those pods, and names where the
// object describes it.
import { strict as assert } from "node:assert";
import { probes, resources } from "../../../policy/rules/containers";
import { hostNamespaces, hostPorts } from "../../../policy/rules/host";
import { podSecurity } from "../../../policy/rules/pod-security";
import { imageDigest } from "../../../policy/rules/releases";
import { noSecretsInPods } from "../../../policy/rules/secrets";
import { visibleObjects } from "../../../policy/rules/visibility";
import { volumeTypes } from "../../../policy/rules/volumes";
import { apiTemplate, IMAGE, patchOf, type Manifest } from "./fixtures";

const POD_RULES = [
  podSecurity,
  hostNamespaces,
  volumeTypes,
  hostPorts,
  resources,
  probes,
  imageDigest,
  noSecretsInPods,
];
const argo = (kind: string) => `kubernetes:argoproj.io/v1alpha1:${kind}`;
const metadata = { name: "api", namespace: "api-prod" };

const analysis = (template: Manifest) => ({
  spec: { metrics: [{ name: "load", provider: { job: { spec: { backoffLimit: 0, template } } } }] },
});
const ANALYSIS = 'spec.metrics["load"].provider.job.spec.template';
/** A training operator's job, whose pod templates are a map of replica specs by role. */
const trainingJob = (type: string, field: string, role: string): [string, (template: Manifest) => Manifest, string] => [
  `kubernetes:kubeflow.org/${type}`,
  (template) => ({ spec: { [field]: { [role]: { replicas: 2, template } } } }),
  `spec.${field}.${role}.template`,
];

/** Kinds that describe pods at other places than one template, each around a pod template, and where that is. */
const NESTED: [string, (template: Manifest) => Manifest, string][] = [
  [argo("AnalysisTemplate"), analysis, ANALYSIS],
  [argo("ClusterAnalysisTemplate"), analysis, ANALYSIS],
  [argo("AnalysisRun"), analysis, ANALYSIS],
  [
    argo("Experiment"),
    (template) => ({ spec: { templates: [{ name: "canary", replicas: 1, template }] } }),
    'spec.templates["canary"].template',
  ],
  [
    "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet",
    (template) => ({ spec: { replicatedJobs: [{ name: "workers", template: { spec: { template } } }] } }),
    'spec.replicatedJobs["workers"].template.spec.template',
  ],
  [
    "kubernetes:batch.volcano.sh/v1alpha1:Job",
    (template) => ({ spec: { tasks: [{ name: "train", template }] } }),
    'spec.tasks["train"].template',
  ],
  trainingJob("v1:TFJob", "tfReplicaSpecs", "Worker"),
  trainingJob("v1:PyTorchJob", "pytorchReplicaSpecs", "Master"),
  trainingJob("v2beta1:MPIJob", "mpiReplicaSpecs", "Launcher"),
  trainingJob("v1:XGBoostJob", "xgbReplicaSpecs", "Master"),
  trainingJob("v1:PaddleJob", "paddleReplicaSpecs", "Worker"),
  trainingJob("v1:JAXJob", "jaxReplicaSpecs", "Worker"),
  [
    "kubernetes:ray.io/v1:RayCluster",
    (template) => ({ spec: { headGroupSpec: { template } } }),
    "spec.headGroupSpec.template",
  ],
  [
    "kubernetes:ray.io/v1:RayCluster",
    (template) => ({ spec: { workerGroupSpecs: [{ groupName: "cpu", template }] } }),
    "spec.workerGroupSpecs[0].template",
  ],
  [
    "kubernetes:ray.io/v1:RayJob",
    (template) => ({ spec: { rayClusterSpec: { headGroupSpec: { template } } } }),
    "spec.rayClusterSpec.headGroupSpec.template",
  ],
  [
    "kubernetes:ray.io/v1:RayJob",
    (template) => ({ spec: { submitterPodTemplate: template } }),
    "spec.submitterPodTemplate",
  ],
  [
    "kubernetes:ray.io/v1:RayService",
    (template) => ({ spec: { rayClusterConfig: { workerGroupSpecs: [{ groupName: "gpu", template }] } } }),
    "spec.rayClusterConfig.workerGroupSpecs[0].template",
  ],
];

/** What each pod rule says of the API's pod template changed to reach past its pod in every way it looks. */
function reachingPast(template: Manifest): Manifest {
  const { spec } = template;
  Object.assign(spec, { hostPID: true });
  spec.volumes.push({ name: "host", hostPath: { path: "/" } });
  const [api] = spec.containers;
  api.securityContext.privileged = true;
  api.ports[0].hostPort = 80;
  api.image = "registry.example.com/platform/api:v2";
  delete api.resources;
  delete api.livenessProbe;
  api.env = [{ name: "DATABASE_URL", value: "postgres://api:hunter2@db:5432/api" }];
  return template;
}
const REACHING_PAST = [
  'container "api" is privileged: remove securityContext.privileged',
  "pod shares the node's process namespace, so it can see, and signal, every process on the node: remove spec.hostPID",
  `pod mounts the node's / (volume "host"), which lets it read or change the node: use an emptyDir, ` +
    "a ConfigMap or Secret, or a PersistentVolumeClaim instead of a hostPath volume",
  'container "api" binds port 80 of its node (hostPort of containerPort 8000), around its Service and the Ingress ' +
    "and onto every address of the node: remove hostPort",
  'container "api" lacks resources.requests.cpu, resources.requests.memory, resources.limits.cpu, ' +
    "resources.limits.memory: set them (for the app's containers: api-stack:cpuRequest, api-stack:memoryRequest, " +
    "api-stack:cpuLimit, api-stack:memoryLimit)",
  'container "api" serves ports 8000, 9000 without livenessProbe: add it so Kubernetes restarts a hung process and ' +
    "routes only to ready pods (the app answers /health/live and /health/ready)",
  'container "api" image "registry.example.com/platform/api:v2" is pinned only by the tag v2, which can be moved: ' +
    "pin it by digest, as repository@sha256:<digest> (api-stack:imageRef; the app's image is pinned when the " +
    "program builds it)",
  'container "api" sets DATABASE_URL to a URL with a password: move it to the Secret: ' +
    "it comes from the secret config key api-stack:databaseUrl (pulumi config set --secret databaseUrl)",
];

describe("policy rules: pods described inside other kinds", () => {
  it("pass the program's API pod template wherever a kind describes it", () => {
    for (const [type, wrap, where] of NESTED) {
      for (const rule of POD_RULES) {
        assert.deepEqual(rule(type, { metadata, ...wrap(apiTemplate()) }), [], `${rule.name} ${type} ${where}`);
      }
    }
  });

  it("refuse what reaches past the pod in each of them, naming where the pod is described", () => {
    for (const [type, wrap, where] of NESTED) {
      const object = { metadata, ...wrap(reachingPast(apiTemplate())) };
      assert.deepEqual(
        POD_RULES.flatMap((rule) => rule(type, object)),
        REACHING_PAST.map((message) => `${where}: ${message}`),
        `${type} ${where}`,
      );
    }
  });

  it("judge a template in a patched list whole, since a patch replaces a list that merges by no key", () => {
    const patch = patchOf(argo("AnalysisTemplate"));
    const bare = { spec: { restartPolicy: "Never", containers: [{ name: "load", image: IMAGE }] } };
    assert.deepEqual(podSecurity(patch, { metadata, ...analysis(bare) }), [
      `${ANALYSIS}: container "load" may run as root: set securityContext.runAsNonRoot: ` +
        "true on the pod or the container",
      `${ANALYSIS}: container "load" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ` +
        "true and mount an emptyDir where it must write (such as /tmp)",
      `${ANALYSIS}: container "load" may escalate privileges: set securityContext.allowPrivilegeEscalation: false`,
      `${ANALYSIS}: container "load" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]`,
      `${ANALYSIS}: container "load" runs without a seccomp profile: set securityContext.seccompProfile.type: ` +
        "RuntimeDefault on the pod or the container",
    ]);
    // A map of templates merges: its pods' own fields are judged for what the patch sets.
    const tfJob = patchOf("kubernetes:kubeflow.org/v1:TFJob");
    assert.deepEqual(podSecurity(tfJob, { metadata, spec: { tfReplicaSpecs: { Worker: { replicas: 4 } } } }), []);
    assert.deepEqual(
      podSecurity(tfJob, {
        metadata,
        spec: { tfReplicaSpecs: { Worker: { template: { spec: { securityContext: { runAsNonRoot: false } } } } } },
      }),
      [
        "spec.tfReplicaSpecs.Worker.template: pod may run as root: set securityContext.runAsNonRoot: " +
          "true on the pod or the container",
      ],
    );
  });

  describe("Argo Workflows", () => {
    const WORKFLOW_KINDS = ["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate"].map(argo);
    const locked = (extra: Manifest = {}) => ({
      image: IMAGE,
      resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
      ...extra,
    });
    /** A workflow whose every kind of template runs locked-down containers, as the restricted level allows. */
    const workflowSpec = (): Manifest => ({
      entrypoint: "main",
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
      volumes: [{ name: "work", emptyDir: {} }],
      templates: [
        {
          name: "main",
          steps: [
            [{ name: "build", template: "build" }],
            [{ name: "check", inline: { script: locked({ source: "true" }) } }],
          ],
        },
        { name: "build", container: locked({ command: ["make"] }), sidecars: [locked({ name: "cache" })] },
        {
          name: "fan-out",
          dag: { tasks: [{ name: "a", inline: { container: locked() } }] },
        },
        { name: "set", containerSet: { containers: [locked({ name: "a" }), locked({ name: "b" })] } },
        { name: "prepare", initContainers: [locked({ name: "fetch" })], container: locked() },
      ],
    });

    it("pass a workflow whose templates run locked-down containers", () => {
      for (const type of WORKFLOW_KINDS) {
        for (const rule of [podSecurity, hostNamespaces, volumeTypes, hostPorts, resources, imageDigest]) {
          assert.deepEqual(rule(type, { metadata, spec: workflowSpec() }), [], `${rule.name} ${type}`);
        }
      }
      assert.deepEqual(podSecurity(argo("CronWorkflow"), { metadata, spec: { workflowSpec: workflowSpec() } }), []);
    });

    it("judge each template's pod, and the workflow's own pod fields once", () => {
      const spec = workflowSpec();
      Object.assign(spec, { hostNetwork: true });
      spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
      spec.templates[1].container.securityContext.privileged = true;
      spec.templates[1].sidecars[0].image = "redis:7";
      // A template's securityContext replaces the workflow's, runAsNonRoot and seccomp included.
      spec.templates[4].securityContext = { runAsUser: 10001 };
      spec.templates[2].dag.tasks[0].inline.container.ports = [{ containerPort: 8080, hostPort: 8080 }];
      const object = { metadata, spec };
      assert.deepEqual(podSecurity(argo("Workflow"), object), [
        'spec.templates["build"]: container "main" is privileged: remove securityContext.privileged',
        'spec.templates["prepare"]: init container "fetch" may run as root: set securityContext.runAsNonRoot: ' +
          "true on the pod or the container",
        'spec.templates["prepare"]: init container "fetch" runs without a seccomp profile: ' +
          "set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container",
        'spec.templates["prepare"]: container "main" may run as root: set securityContext.runAsNonRoot: ' +
          "true on the pod or the container",
        'spec.templates["prepare"]: container "main" runs without a seccomp profile: ' +
          "set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container",
      ]);
      assert.deepEqual(hostNamespaces(argo("Workflow"), object), [
        "pod shares the node's network namespace, so it can bind the node's ports and reach every service " +
          "listening on the node: remove spec.hostNetwork",
      ]);
      assert.deepEqual(volumeTypes(argo("Workflow"), object), [
        `pod mounts the node's /var/run/docker.sock (volume "docker"), which lets it read or change the node: ` +
          "use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead of a hostPath volume",
      ]);
      assert.deepEqual(hostPorts(argo("Workflow"), object), [
        'spec.templates["fan-out"].dag.tasks["a"].inline: container "main" binds port 8080 of its node (hostPort ' +
          "of containerPort 8080), around its Service and the Ingress and onto every address of the node: " +
          "remove hostPort",
      ]);
      assert.deepEqual(imageDigest(argo("Workflow"), object), [
        'spec.templates["build"]: container "cache" image "redis:7" is pinned only by the tag 7, ' +
          "which can be moved: pin it by digest, as repository@sha256:<digest> (api-stack:imageRef; the app's " +
          "image is pinned when the program builds it)",
      ]);
      const cron = { metadata, spec: { schedule: "0 * * * *", workflowSpec: spec } };
      assert.deepEqual(hostNamespaces(argo("CronWorkflow"), cron), [
        "spec.workflowSpec: pod shares the node's network namespace, so it can bind the node's ports and reach " +
          "every service listening on the node: remove spec.hostNetwork",
      ]);
      assert.equal(podSecurity(argo("CronWorkflow"), cron)[0].split(":")[0], 'spec.workflowSpec.templates["build"]');
    });

    it("refuse a podSpecPatch wherever it is set, since it changes the pod out of every rule's sight", () => {
      const spec = workflowSpec();
      spec.podSpecPatch = '{"hostPID": true}';
      spec.templateDefaults = { podSpecPatch: "hostIPC: true" };
      spec.templates[1].podSpecPatch = '{"containers": [{"name": "main", "securityContext": {"privileged": true}}]}';
      const why =
        "sets pod fields out of every rule's sight: remove it and set those fields in the template, " +
        "where the rules check them";
      assert.deepEqual(podSecurity(argo("WorkflowTemplate"), { metadata, spec }), [
        `spec.podSpecPatch ${why}`,
        `spec.templateDefaults.podSpecPatch ${why}`,
        `spec.templates["build"].podSpecPatch ${why}`,
      ]);
    });

    it("judge templateDefaults, which Argo merges under every template, for what they set", () => {
      const spec = workflowSpec();
      spec.templateDefaults = { container: { resources: { limits: { cpu: "1" } } } };
      assert.deepEqual(podSecurity(argo("Workflow"), { metadata, spec }), []);
      assert.deepEqual(resources(argo("Workflow"), { metadata, spec }), []);
      spec.templateDefaults.container.securityContext = { allowPrivilegeEscalation: true };
      assert.deepEqual(podSecurity(argo("Workflow"), { metadata, spec }), [
        'spec.templateDefaults: container "main" may escalate privileges: ' +
          "set securityContext.allowPrivilegeEscalation: false",
      ]);
    });

    it("refuse a resource template that writes objects no policy sees (visible-objects)", () => {
      const spec = workflowSpec();
      spec.templates.push(
        { name: "deploy", resource: { action: "apply", manifest: "apiVersion: v1\nkind: Pod\n" } },
        { name: "read", resource: { action: "get", manifest: "apiVersion: v1\nkind: ConfigMap\n" } },
      );
      assert.deepEqual(visibleObjects(argo("Workflow"), { metadata, spec }), [
        'spec.templates["deploy"].resource writes objects from its own manifest (action apply) when the workflow ' +
          "runs, which no policy sees: register those objects with Pulumi, where the rules check them",
      ]);
      assert.deepEqual(visibleObjects(argo("Workflow"), { metadata, spec: workflowSpec() }), []);
    });
  });
});
