// Where Kubernetes objects describe pods, and those pods as the rules read them. A Deployment
// keeps one pod template at spec.template, a CronJob at spec.jobTemplate.spec.template, an Argo
// AnalysisTemplate one per metric that runs a Job, an Argo Workflow one pod per template that runs
// a container. Every pod rule judges each of them the same way, whatever kind describes it; a kind
// missing here is not checked at all, which is why the table errs on the side of more kinds.
import { groupKind, isPatch } from "./kube";
import { at, isFields, keys, list, objects, text, type Fields } from "./read";

/** A pod an object describes. */
export interface PodView {
  /**
   * Where the object describes it (`spec.metrics["load"].provider.job.spec.template`), which
   * messages start with; empty for the one pod template of a kind that has one.
   */
  where: string;
  /** The pod's metadata: its labels and annotations. */
  metadata: unknown;
  /** Its pod spec; for an Argo Workflow, the pod fields that the workflow or a template sets. */
  spec: Fields;
  /**
   * Part of a patch: a pod-level field it leaves out keeps the patched object's value, so it is
   * judged for what it sets. Its containers are judged whole all the same (see containersOf).
   */
  partial: boolean;
  /** Its containers are defaults merged into others' (Argo's templateDefaults), judged for what they set. */
  partialContainers: boolean;
  /** The pod-level securityContext it runs with when it sets none: an Argo workflow's, for its templates. */
  inherited?: unknown;
  /** Where it sets an Argo podSpecPatch, which changes the pod out of every rule's sight. */
  specPatches: readonly string[];
}

export interface ContainerRef {
  container: Fields;
  init: boolean;
  /** Argo Workflows names a template's own container `main`. */
  name: string;
  /**
   * Judged for what it sets. A patch's containers are not: server-side apply merges containers by
   * name and adds one the patched object lacks, and nothing in a patch shows which it does.
   */
  partial: boolean;
}

/** How messages name a container: `container "api"`, `init container "wait"`. */
export function containerLabel({ init, name }: ContainerRef): string {
  return `${init ? "init container" : "container"} "${name}"`;
}

/** A message about a pod, prefixed with where its object describes it. */
export const inPod = (pod: PodView, message: string): string => (pod.where ? `${pod.where}: ${message}` : message);

/** The init containers, then the containers of a pod. */
export function containersOf(pod: PodView): ContainerRef[] {
  const refs = (value: unknown, init: boolean) =>
    objects(value).map((container) => ({
      container,
      init,
      name: text(container.name) ?? "main",
      partial: pod.partialContainers,
    }));
  return [...refs(pod.spec.initContainers, true), ...refs(pod.spec.containers, false)];
}

/** The container ports a container declares. */
export const ports = (container: Fields): number[] =>
  objects(container.ports)
    .map((port) => port.containerPort)
    .filter((port) => typeof port === "number");

// --- where each kind describes its pods -------------------------------------------------------

/**
 * Where each kind keeps its pod templates (PodTemplateSpecs), as dotted field names, with `[]`
 * for every item of a list and `*` for every value of a map. Kinds by API group, every version.
 */
const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  "core/PodTemplate": ["template"],
  "core/ReplicationController": ["spec.template"],
  "apps/Deployment": ["spec.template"],
  "extensions/Deployment": ["spec.template"],
  "apps/StatefulSet": ["spec.template"],
  "apps/DaemonSet": ["spec.template"],
  "extensions/DaemonSet": ["spec.template"],
  "apps/ReplicaSet": ["spec.template"],
  "extensions/ReplicaSet": ["spec.template"],
  "batch/Job": ["spec.template"],
  "batch/CronJob": ["spec.jobTemplate.spec.template"],
  // Argo Rollouts: a Rollout's pods (none of its own when it borrows a Deployment's through
  // workloadRef), the Jobs that analyses run, and an Experiment's ReplicaSets.
  "argoproj.io/Rollout": ["spec.template"],
  "argoproj.io/AnalysisTemplate": ["spec.metrics[].provider.job.spec.template"],
  "argoproj.io/ClusterAnalysisTemplate": ["spec.metrics[].provider.job.spec.template"],
  "argoproj.io/AnalysisRun": ["spec.metrics[].provider.job.spec.template"],
  "argoproj.io/Experiment": ["spec.templates[].template"],
  // Knative Serving: a Service's and a Configuration's revisions (a Revision is a pod spec itself).
  "serving.knative.dev/Service": ["spec.template"],
  "serving.knative.dev/Configuration": ["spec.template"],
  // KEDA: the Job a ScaledJob starts per event.
  "keda.sh/ScaledJob": ["spec.jobTargetRef.template"],
  // Batch and training operators.
  "jobset.x-k8s.io/JobSet": ["spec.replicatedJobs[].template.spec.template"],
  "batch.volcano.sh/Job": ["spec.tasks[].template"],
  "kubeflow.org/TFJob": ["spec.tfReplicaSpecs.*.template"],
  "kubeflow.org/PyTorchJob": ["spec.pytorchReplicaSpecs.*.template"],
  "kubeflow.org/MPIJob": ["spec.mpiReplicaSpecs.*.template"],
  "kubeflow.org/XGBoostJob": ["spec.xgbReplicaSpecs.*.template"],
  "kubeflow.org/PaddleJob": ["spec.paddleReplicaSpecs.*.template"],
  "kubeflow.org/JAXJob": ["spec.jaxReplicaSpecs.*.template"],
  "ray.io/RayCluster": ["spec.headGroupSpec.template", "spec.workerGroupSpecs[].template"],
  "ray.io/RayJob": [
    "spec.rayClusterSpec.headGroupSpec.template",
    "spec.rayClusterSpec.workerGroupSpecs[].template",
    "spec.submitterPodTemplate",
  ],
  "ray.io/RayService": [
    "spec.rayClusterConfig.headGroupSpec.template",
    "spec.rayClusterConfig.workerGroupSpecs[].template",
  ],
  // OpenKruise's workloads.
  "apps.kruise.io/CloneSet": ["spec.template"],
  "apps.kruise.io/StatefulSet": ["spec.template"],
  "apps.kruise.io/DaemonSet": ["spec.template"],
  "apps.kruise.io/BroadcastJob": ["spec.template"],
};

/** Kinds that are a pod spec themselves, with the pod's metadata as their own. */
const POD_KINDS = new Set(["core/Pod", "serving.knative.dev/Revision"]);

/** Argo Workflows kinds, by where their WorkflowSpec is. */
const WORKFLOW_SPECS: Record<string, string> = {
  "argoproj.io/Workflow": "spec",
  "argoproj.io/WorkflowTemplate": "spec",
  "argoproj.io/ClusterWorkflowTemplate": "spec",
  "argoproj.io/CronWorkflow": "spec.workflowSpec",
};

/** Workloads that keep a number of pods running (as opposed to Jobs, DaemonSets and bare Pods). */
export const REPLICATED = new Set([
  "apps/Deployment",
  "extensions/Deployment",
  "apps/StatefulSet",
  "apps/ReplicaSet",
  "extensions/ReplicaSet",
  "core/ReplicationController",
  "argoproj.io/Rollout",
]);

interface Found {
  value: unknown;
  /** The concrete path, list items named by their `name` (or index). */
  where: string;
  /** Reached through a list: a patch that sets the list replaces it, items whole. */
  listed: boolean;
  /** Reached through a list or a map, so one of several that messages tell apart. */
  many: boolean;
}

/** Every value at a path of TEMPLATE_PATHS. */
function find(root: unknown, path: string): Found[] {
  let found: Found[] = [{ value: root, where: "", listed: false, many: false }];
  for (const step of path.split(".")) {
    found = found.flatMap(({ value, where, listed, many }): Found[] => {
      const join = (name: string) => (where ? `${where}.${name}` : name);
      if (step === "*") {
        return keys(value).map((key) => ({ value: at(value, key), where: join(key), listed, many: true }));
      }
      if (!step.endsWith("[]")) {
        return [{ value: at(value, step), where: join(step), listed, many }];
      }
      const field = step.slice(0, -"[]".length);
      return list(at(value, field)).map((item, index) => ({
        value: item,
        where: `${join(field)}[${itemName(item, index)}]`,
        listed: true,
        many: true,
      }));
    });
  }
  return found;
}

const itemName = (item: unknown, index: number): string => {
  const name = text(at(item, "name"));
  return name === undefined ? String(index) : JSON.stringify(name);
};

const fields = (value: unknown): Fields => (isFields(value) ? value : {});

function templatePods(props: object, paths: readonly string[], patch: boolean): PodView[] {
  return paths.flatMap((path) =>
    find(props, path)
      .filter(({ value }) => isFields(value))
      .map(({ value, where, listed, many }) => ({
        // A kind's one template at its one place needs no place in messages.
        where: paths.length === 1 && !many ? "" : where,
        metadata: at(value, "metadata"),
        spec: fields(at(value, "spec")),
        // Lists of custom resources are replaced whole by a patch (they merge by no key), and so
        // are the templates in them.
        partial: patch && !listed,
        partialContainers: false,
        specPatches: [],
      })),
  );
}

// --- Argo Workflows ---------------------------------------------------------------------------

export interface WorkflowTemplate {
  template: Fields;
  where: string;
}

/**
 * Every template of an Argo WorkflowSpec: `templates`, and those written inline in a template's
 * steps or DAG tasks, at any depth.
 */
function workflowTemplates(spec: unknown, base: string): WorkflowTemplate[] {
  const walk = (template: Fields, where: string): WorkflowTemplate[] => [
    { template, where },
    ...list(at(template, "steps")).flatMap((parallel, group) => inlined(objects(parallel), `${where}.steps[${group}]`)),
    ...inlined(objects(at(template, "dag", "tasks")), `${where}.dag.tasks`),
  ];
  const inlined = (steps: Fields[], where: string): WorkflowTemplate[] =>
    steps.flatMap((step, index) =>
      isFields(step.inline) ? walk(step.inline, `${where}[${itemName(step, index)}].inline`) : [],
    );
  return objects(at(spec, "templates")).flatMap((template, index) =>
    walk(template, `${base}.templates[${itemName(template, index)}]`),
  );
}

/** The templates of an Argo Workflows kind; none for other kinds. */
export function workflowTemplatesOf(type: string, props: object): WorkflowTemplate[] {
  const base = WORKFLOW_SPECS[groupKind(type) ?? ""];
  return base === undefined ? [] : workflowTemplates(at(props, ...base.split(".")), base);
}

/** The pod a template runs: its containers (main, script, container set, sidecars) and its own pod fields. */
function templatePod(template: Fields, where: string, inherited: unknown, partial: boolean): PodView {
  const containers = [
    template.container,
    template.script,
    ...list(at(template, "containerSet", "containers")),
    ...list(template.sidecars),
  ];
  return {
    where,
    metadata: template.metadata,
    spec: {
      securityContext: template.securityContext,
      volumes: template.volumes,
      initContainers: template.initContainers,
      containers: containers.filter(isFields),
    },
    partial,
    partialContainers: partial,
    inherited,
    specPatches: text(template.podSpecPatch) ? [`${where}.podSpecPatch`] : [],
  };
}

/**
 * The pods of an Argo WorkflowSpec. The workflow's own pod fields (hostNetwork, volumes, its
 * podMetadata and securityContext, which a template's securityContext replaces) are one pod,
 * judged once; each template that runs containers another; templateDefaults, which Argo merges
 * under every template, a third judged for what it sets. A patch replaces the list of templates
 * whole (it merges by no key), so templates are judged whole in a patch too.
 */
function workflowPods(type: string, props: object, patch: boolean): PodView[] {
  const base = WORKFLOW_SPECS[groupKind(type) ?? ""];
  const spec = at(props, ...base.split("."));
  if (!isFields(spec)) {
    return [];
  }
  const inherited = spec.securityContext;
  const workflow: PodView = {
    where: base === "spec" ? "" : base,
    metadata: spec.podMetadata,
    spec: { hostNetwork: spec.hostNetwork, volumes: spec.volumes, securityContext: inherited },
    partial: patch,
    partialContainers: false,
    specPatches: text(spec.podSpecPatch) ? [`${base}.podSpecPatch`] : [],
  };
  const defaults = isFields(spec.templateDefaults)
    ? [templatePod(spec.templateDefaults, `${base}.templateDefaults`, inherited, true)]
    : [];
  const templates = workflowTemplates(spec, base).map(({ template, where }) =>
    templatePod(template, where, inherited, false),
  );
  return [workflow, ...defaults, ...templates];
}

// --- every kind -------------------------------------------------------------------------------

/** The pods an object describes, in the order it describes them; none for kinds without pods. */
export function podViews(type: string, props: object): PodView[] {
  const kind = groupKind(type) ?? "";
  const patch = isPatch(type);
  if (POD_KINDS.has(kind)) {
    const spec = at(props, "spec");
    return isFields(spec)
      ? [
          {
            where: "",
            metadata: at(props, "metadata"),
            spec,
            partial: patch,
            partialContainers: false,
            specPatches: [],
          },
        ]
      : [];
  }
  if (kind in WORKFLOW_SPECS) {
    return workflowPods(type, props, patch);
  }
  return templatePods(props, TEMPLATE_PATHS[kind] ?? [], patch);
}

/** The pod template of a workload that keeps pods running (REPLICATED), if it has one. */
export function workloadPod(type: string, props: object): PodView | undefined {
  return REPLICATED.has(groupKind(type) ?? "") ? podViews(type, props).find((pod) => pod.where === "") : undefined;
}

/**
 * The API's pods: labelled component "api" by the program, or, for objects the program did not
 * label, any pod serving a port named "http".
 */
export function isApiPod(pod: PodView): boolean {
  const component = at(pod.metadata, "labels", "app.kubernetes.io/component");
  if (component !== undefined) {
    return component === "api";
  }
  return containersOf(pod).some(({ container }) => objects(container.ports).some((port) => port.name === "http"));
}
