// Ways around the pack that a rule looking only at the usual places would let through in a prod
// stack: a patch that adds a container, pods described inside other kinds, node access besides
// hostPath, secrets outside ConfigMap keys and cluster-wide changes. Each is run through the whole
// pack as the engine would, and must be refused by exactly the policies named.
import { strict as assert } from "node:assert";
import { evaluate } from "../../../policy/pack";

const IMAGE = `registry.example.com/platform/api@sha256:${"2".repeat(64)}`;
const metadata = { name: "api", namespace: "api-prod" };

/** The mandatory policies that refuse an object registered in the prod stack, each once. */
function refusedBy(type: string, props: object): string[] {
  const findings = evaluate([{ type, props, urn: `urn:pulumi:prod::api-stack::${type}::api` }]);
  return [...new Set(findings.filter((f) => f.enforcementLevel === "mandatory").map((f) => f.policy))].sort();
}

/** A pod that owns its node: privileged, in the node's process and network namespaces, with / mounted. */
const nodeOwner = () => ({
  hostPID: true,
  hostNetwork: true,
  restartPolicy: "Never",
  containers: [
    {
      name: "probe",
      image: IMAGE,
      command: ["sh", "-c", "sleep 3600"],
      securityContext: { privileged: true },
      volumeMounts: [{ name: "host", mountPath: "/host" }],
    },
  ],
  volumes: [{ name: "host", hostPath: { path: "/" } }],
});
/** A pod that the restricted level accepts in every other respect. */
const locked = (container: object = {}, pod: object = {}) => ({
  restartPolicy: "Never",
  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" }, ...pod },
  containers: [
    {
      name: "task",
      image: IMAGE,
      resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
      ...container,
    },
  ],
});

const OWNS_THE_NODE = ["host-namespaces", "pod-security", "resources", "volume-types"];

describe("policy pack: known bypasses are refused in prod", () => {
  it("a DeploymentPatch that adds a container without securityContext and resources", () => {
    const sidecar = { name: "sidecar", image: IMAGE, command: ["sh", "-c", "sleep 3600"] };
    assert.deepEqual(
      refusedBy("kubernetes:apps/v1:DeploymentPatch", {
        metadata,
        spec: { template: { spec: { containers: [sidecar] } } },
      }),
      ["pod-security", "resources"],
    );
  });

  describe("pods described inside other kinds", () => {
    const job = { backoffLimit: 0, template: { spec: nodeOwner() } };
    const argo = (kind: string) => `kubernetes:argoproj.io/v1alpha1:${kind}`;
    const cases: [string, object][] = [
      ["kubernetes:core/v1:PodTemplate", { metadata, template: { spec: nodeOwner() } }],
      [argo("AnalysisTemplate"), { metadata, spec: { metrics: [{ name: "load", provider: { job: { spec: job } } }] } }],
      [
        argo("ClusterAnalysisTemplate"),
        { metadata: { name: "load" }, spec: { metrics: [{ name: "load", provider: { job: { spec: job } } }] } },
      ],
      [argo("AnalysisRun"), { metadata, spec: { metrics: [{ name: "load", provider: { job: { spec: job } } }] } }],
      [
        argo("Experiment"),
        {
          metadata,
          spec: {
            templates: [
              {
                name: "probe",
                replicas: 1,
                selector: { matchLabels: { app: "probe" } },
                template: { metadata: { labels: { app: "probe" } }, spec: nodeOwner() },
              },
            ],
          },
        },
      ],
      ["kubernetes:serving.knative.dev/v1:Service", { metadata, spec: { template: { spec: nodeOwner() } } }],
      ["kubernetes:serving.knative.dev/v1:Configuration", { metadata, spec: { template: { spec: nodeOwner() } } }],
      ["kubernetes:serving.knative.dev/v1:Revision", { metadata, spec: nodeOwner() }],
      ["kubernetes:keda.sh/v1alpha1:ScaledJob", { metadata, spec: { jobTargetRef: job } }],
    ];
    for (const [type, props] of cases) {
      it(type, () => assert.deepEqual(refusedBy(type, props), OWNS_THE_NODE));
    }

    const workflowSpec = () => ({
      entrypoint: "main",
      hostNetwork: true,
      volumes: [{ name: "host", hostPath: { path: "/" } }],
      templates: [
        {
          name: "main",
          container: {
            image: IMAGE,
            command: ["sh", "-c", "sleep 3600"],
            securityContext: { privileged: true },
            volumeMounts: [{ name: "host", mountPath: "/host" }],
          },
        },
        {
          name: "pid",
          podSpecPatch: '{"hostPID": true}',
          script: { image: IMAGE, command: ["sh"], source: "ps -e" },
        },
      ],
    });
    for (const [kind, props] of [
      ["Workflow", { metadata, spec: workflowSpec() }],
      ["WorkflowTemplate", { metadata, spec: workflowSpec() }],
      ["ClusterWorkflowTemplate", { metadata: { name: "probe" }, spec: workflowSpec() }],
      ["CronWorkflow", { metadata, spec: { schedule: "* * * * *", workflowSpec: workflowSpec() } }],
    ] as const) {
      it(`Argo ${kind}`, () => assert.deepEqual(refusedBy(argo(kind), props), OWNS_THE_NODE));
    }
  });

  describe("node access besides hostPath", () => {
    const job = (spec: object, annotations?: Record<string, string>) => ({
      metadata,
      spec: { template: { ...(annotations ? { metadata: { annotations } } : {}), spec } },
    });
    const withVolume = (volume: object) => ({ ...locked(), volumes: [{ name: "data", ...volume }] });
    const JOB = "kubernetes:batch/v1:Job";

    it("passes the locked-down pod these cases start from", () => assert.deepEqual(refusedBy(JOB, job(locked())), []));

    for (const [name, volume] of [
      ["gitRepo", { gitRepo: { repository: "https://example.com/repo.git" } }],
      ["nfs", { nfs: { server: "10.0.0.1", path: "/" } }],
      ["iscsi", { iscsi: { targetPortal: "10.0.0.1:3260", iqn: "iqn.2001-04.com.example:storage", lun: 0 } }],
      ["flexVolume", { flexVolume: { driver: "example.com/host" } }],
    ] as const) {
      it(`a ${name} volume`, () => assert.deepEqual(refusedBy(JOB, job(withVolume(volume))), ["volume-types"]));
    }

    const securityContext = (extra: object) => ({
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        ...extra,
      },
    });
    it("AppArmor Unconfined, as a field of the pod or the container and as an annotation", () => {
      assert.deepEqual(refusedBy(JOB, job(locked({}, { appArmorProfile: { type: "Unconfined" } }))), ["pod-security"]);
      assert.deepEqual(refusedBy(JOB, job(locked(securityContext({ appArmorProfile: { type: "Unconfined" } })))), [
        "pod-security",
      ]);
      assert.deepEqual(
        refusedBy(JOB, job(locked(), { "container.apparmor.security.beta.kubernetes.io/task": "unconfined" })),
        ["pod-security"],
      );
    });

    it("procMount Unmasked", () => {
      assert.deepEqual(refusedBy(JOB, job(locked(securityContext({ procMount: "Unmasked" })))), ["pod-security"]);
    });

    it("an unsafe sysctl", () => {
      assert.deepEqual(refusedBy(JOB, job(locked({}, { sysctls: [{ name: "kernel.core_pattern", value: "|/x" }] }))), [
        "pod-security",
      ]);
    });

    it("the SELinux type spc_t, and an SELinux user or role", () => {
      assert.deepEqual(refusedBy(JOB, job(locked({}, { seLinuxOptions: { type: "spc_t" } }))), ["pod-security"]);
      assert.deepEqual(refusedBy(JOB, job(locked(securityContext({ seLinuxOptions: { user: "system_u" } })))), [
        "pod-security",
      ]);
      assert.deepEqual(refusedBy(JOB, job(locked(securityContext({ seLinuxOptions: { role: "sysadm_r" } })))), [
        "pod-security",
      ]);
    });

    it("a probe or lifecycle hook aimed at another host", () => {
      const probe = { httpGet: { host: "169.254.169.254", path: "/latest/meta-data/", port: 80 } };
      assert.deepEqual(refusedBy(JOB, job(locked({ readinessProbe: probe }))), ["pod-security"]);
      assert.deepEqual(refusedBy(JOB, job(locked({ lifecycle: { preStop: probe } }))), ["pod-security"]);
    });
  });

  describe("secrets outside ConfigMap keys", () => {
    it("a Job whose env sets DATABASE_URL to a URL with a password", () => {
      const env = [{ name: "DATABASE_URL", value: "postgres://api:hunter2@db.internal:5432/api" }];
      const spec = locked({ env });
      assert.deepEqual(refusedBy("kubernetes:batch/v1:Job", { metadata, spec: { template: { spec } } }), [
        "no-secrets-in-pods",
      ]);
    });

    it("a ConfigMap value that is an env file holding a URL with a password", () => {
      const data = { "app.env": "LOG_LEVEL=info\nDATABASE_URL=postgres://api:hunter2@db.internal:5432/api\n" };
      assert.deepEqual(refusedBy("kubernetes:core/v1:ConfigMap", { metadata, data }), ["no-secrets-in-configmap"]);
    });
  });

  describe("cluster-wide changes", () => {
    it("a ClusterRoleBinding of every ServiceAccount to cluster-admin", () => {
      const binding = {
        metadata: { name: "everyone-admin" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:serviceaccounts" }],
      };
      assert.deepEqual(refusedBy("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", binding), [
        "rbac-escalation",
      ]);
    });

    it("a NamespacePatch that lowers Pod Security enforcement to privileged, or removes it", () => {
      const label = "pod-security.kubernetes.io/enforce";
      for (const value of ["privileged", "baseline", null]) {
        assert.deepEqual(
          refusedBy("kubernetes:core/v1:NamespacePatch", {
            metadata: { name: "api-prod", labels: { [label]: value } },
          }),
          ["namespace-pod-security"],
          String(value),
        );
      }
    });

    it("an admission webhook that sends objects to a URL outside the cluster", () => {
      const webhooks = {
        metadata: { name: "audit" },
        webhooks: [
          {
            name: "audit.example.com",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            clientConfig: { url: "https://collector.example.com/admit" },
            rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] }],
            namespaceSelector: {
              matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }],
            },
          },
        ],
      };
      for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
        assert.deepEqual(refusedBy(`kubernetes:admissionregistration.k8s.io/v1:${kind}`, webhooks), [
          "admission-webhooks",
        ]);
      }
    });
  });
});
