// rbac-escalation, admission-webhooks and namespace-pod-security: objects whose effect reaches past
// the stack's own namespace.
import { strict as assert } from "node:assert";
import { admissionWebhooks, namespacePodSecurity, rbacEscalation } from "../../../policy/rules/cluster";
import { names, patchOf, T, type Manifest } from "./fixtures";

describe("policy rules: cluster-wide objects", () => {
  describe("rbac-escalation: bindings", () => {
    const binding = (roleRef: Manifest | undefined, subjects: Manifest[] | undefined, name = "api"): Manifest => ({
      metadata: { name, namespace: "api-prod" },
      ...(roleRef ? { roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef } } : {}),
      ...(subjects ? { subjects } : {}),
    });
    const sa = (name = "api", namespace = "api-prod") => ({ kind: "ServiceAccount", name, namespace });
    const group = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name });
    const clusterRole = (name: string) => ({ kind: "ClusterRole", name });

    it("passes a ServiceAccount bound to what its work needs", () => {
      assert.deepEqual(rbacEscalation(T.roleBinding, binding({ kind: "Role", name: "api-reader" }, [sa()])), []);
      assert.deepEqual(rbacEscalation(T.clusterRoleBinding, binding(clusterRole("view"), [sa()])), []);
      // A powerful built-in role within one namespace, to a named subject.
      assert.deepEqual(rbacEscalation(T.roleBinding, binding(clusterRole("edit"), [sa("deployer")])), []);
      // A Role named like a built-in ClusterRole is the namespace's own.
      assert.deepEqual(rbacEscalation(T.roleBinding, binding({ kind: "Role", name: "admin" }, [group("team")])), []);
      assert.deepEqual(rbacEscalation(T.roleBinding, binding(clusterRole("view"), [group("team")])), []);
    });

    it("refuses a grant of any role to a subject that stands for every caller or every ServiceAccount", () => {
      const cases: [Manifest, string][] = [
        [group("system:authenticated"), "group system:authenticated, that is to every authenticated caller"],
        [group("system:unauthenticated"), "group system:unauthenticated, that is to every anonymous caller"],
        [
          group("system:serviceaccounts"),
          "group system:serviceaccounts, that is to every ServiceAccount of the cluster",
        ],
        [
          group("system:serviceaccounts:api-prod"),
          "group system:serviceaccounts:api-prod, that is to every ServiceAccount of namespace api-prod",
        ],
        [{ kind: "User", name: "system:anonymous" }, "user system:anonymous, that is to every anonymous caller"],
      ];
      for (const [subject, whom] of cases) {
        assert.deepEqual(rbacEscalation(T.clusterRoleBinding, binding(clusterRole("view"), [subject])), [
          `ClusterRoleBinding api grants ClusterRole view to ${whom}: bind the ServiceAccounts or users that need ` +
            "it by name",
        ]);
      }
      assert.deepEqual(
        rbacEscalation(
          T.roleBinding,
          binding({ kind: "Role", name: "api-reader" }, [sa(), group("system:serviceaccounts:api-prod")]),
        ),
        [
          "RoleBinding api grants Role api-reader to group system:serviceaccounts:api-prod, " +
            "that is to every ServiceAccount of namespace api-prod: bind the ServiceAccounts or users that need " +
            "it by name",
        ],
      );
    });

    it("refuses cluster-admin, admin or edit to a group anywhere, and to anyone in every namespace", () => {
      assert.deepEqual(rbacEscalation(T.roleBinding, binding(clusterRole("admin"), [group("developers")])), [
        "RoleBinding api grants ClusterRole admin, which reads every Secret, runs pods as any ServiceAccount and " +
          "grants roles, to group developers, whose members are decided outside this stack: " +
          "bind the ServiceAccounts or users that need it by name, to a role with only what they need",
      ]);
      assert.deepEqual(rbacEscalation(T.clusterRoleBinding, binding(clusterRole("cluster-admin"), [sa("ci", "ci")])), [
        "ClusterRoleBinding api grants ClusterRole cluster-admin, which grants every permission on every object, " +
          "in every namespace to ServiceAccount ci/ci: bind a role with only what it needs, " +
          "with a RoleBinding in the namespaces where it needs it",
      ]);
      assert.deepEqual(
        rbacEscalation(T.clusterRoleBinding, binding(clusterRole("edit"), [{ kind: "User", name: "alice" }])),
        [
          "ClusterRoleBinding api grants ClusterRole edit, which reads every Secret and runs pods as any " +
            "ServiceAccount, in every namespace to user alice: bind a role with only what it needs, " +
            "with a RoleBinding in the namespaces where it needs it",
        ],
      );
    });

    it("judges the subjects a patch sets, which must restate the roleRef that says what they are granted", () => {
      const patch = patchOf(T.clusterRoleBinding);
      assert.deepEqual(rbacEscalation(patch, { metadata: { name: "api", labels: names.labels("api") } }), []);
      assert.deepEqual(rbacEscalation(patch, binding(clusterRole("view"), [sa()])), []);
      assert.deepEqual(rbacEscalation(patch, binding(undefined, [sa()])), [
        "ClusterRoleBindingPatch api binds ServiceAccount api-prod/api without restating roleRef, " +
          "so the pack cannot see what it grants them: restate the binding's roleRef in the patch",
      ]);
      assert.deepEqual(rbacEscalation(patch, binding(clusterRole("cluster-admin"), [group("system:masters")])), [
        "ClusterRoleBindingPatch api grants ClusterRole cluster-admin, which grants every permission on every " +
          "object, to group system:masters, whose members are decided outside this stack: " +
          "bind the ServiceAccounts or users that need it by name, to a role with only what they need",
      ]);
    });
  });

  describe("rbac-escalation: roles", () => {
    const role = (rules: Manifest[], extra: Manifest = {}): Manifest => ({
      metadata: { name: "api", namespace: "api-prod" },
      rules,
      ...extra,
    });
    const rule = (apiGroups: string[], resources: string[], verbs: string[], extra: Manifest = {}) => ({
      apiGroups,
      resources,
      verbs,
      ...extra,
    });
    const READ = ["get", "list", "watch"];

    it("passes roles that grant what a workload's work needs", () => {
      const rules = [
        rule([""], ["configmaps", "secrets"], READ),
        rule(["apps"], ["deployments", "replicasets"], ["get", "list", "watch", "update", "patch"]),
        rule(["coordination.k8s.io"], ["leases"], ["create", "get", "update"]),
      ];
      // A Role reads its own namespace's Secrets, as a workload that needs one may.
      assert.deepEqual(rbacEscalation(T.role, role(rules)), []);
      // A ClusterRole may read Secrets it names.
      assert.deepEqual(
        rbacEscalation(T.clusterRole, role([rule([""], ["secrets"], ["get"], { resourceNames: ["api-tls"] })])),
        [],
      );
    });

    it(
      "refuses every verb on every resource, escalation, impersonation, tokens, " +
        "the kubelet API and Secrets cluster-wide",
      () => {
        const cases: [Manifest, string][] = [
          [
            rule(["*"], ["*"], ["*"]),
            "grants every verb on every resource, as cluster-admin does: list only the verbs and resources it needs",
          ],
          [
            rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["bind"]),
            "can escalate or bind roles (escalate, bind on roles or clusterroles), " +
              "and so grant itself any permission: remove those verbs",
          ],
          [
            rule(["rbac.authorization.k8s.io"], ["roles"], ["*"]),
            "can escalate or bind roles (escalate, bind on roles or clusterroles), " +
              "and so grant itself any permission: remove those verbs",
          ],
          [
            rule([""], ["users", "groups"], ["impersonate"]),
            "can impersonate users, groups or ServiceAccounts, and so act as any of them: remove the impersonate verb",
          ],
          [
            rule([""], ["serviceaccounts/token"], ["create"]),
            "creates tokens of ServiceAccounts (create on serviceaccounts/token), and so acts as any of them: " +
              "remove it, or name the ServiceAccounts in resourceNames",
          ],
          [
            rule([""], ["nodes/*"], ["get"]),
            "reaches the kubelet API of nodes (nodes/proxy), which runs commands in any pod on them: " +
              "remove nodes/proxy",
          ],
          [
            rule([""], ["secrets", "configmaps"], ["list"]),
            "reads Secrets (get, list or watch on secrets), in every namespace wherever a ClusterRoleBinding " +
              "grants it: grant it with a Role in the namespaces whose Secrets it needs, " +
              "or name them in resourceNames",
          ],
          [
            rule(["*"], ["*"], ["list", "watch"]),
            "reads Secrets (get, list or watch on secrets), in every namespace wherever a ClusterRoleBinding " +
              "grants it: grant it with a Role in the namespaces whose Secrets it needs, " +
              "or name them in resourceNames",
          ],
        ];
        for (const [grant, message] of cases) {
          assert.deepEqual(rbacEscalation(T.clusterRole, role([grant])), [`ClusterRole api ${message}`], message);
        }
        // Each grant once, whatever the number of rules that give it.
        assert.deepEqual(rbacEscalation(T.role, role([rule(["*"], ["*"], ["*"]), rule([""], ["*"], ["*"])])), [
          "Role api grants every verb on every resource, as cluster-admin does: list only the verbs and resources " +
            "it needs",
        ]);
      },
    );

    it("refuses a ClusterRole that aggregates rules the pack cannot see", () => {
      const aggregated = role([], {
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "example.com/aggregate-to-api": "true" } }] },
      });
      assert.deepEqual(rbacEscalation(T.clusterRole, aggregated), [
        "ClusterRole api collects the rules of every ClusterRole its aggregationRule selects, " +
          "which the pack cannot see: remove aggregationRule and list the rules it needs",
      ]);
    });

    it("judges the rules a patch sets, which replace the role's", () => {
      const patch = patchOf(T.clusterRole);
      assert.deepEqual(rbacEscalation(patch, { metadata: { name: "api", labels: { team: "platform" } } }), []);
      assert.deepEqual(rbacEscalation(patch, role([rule([""], ["secrets"], ["watch"])])), [
        "ClusterRolePatch api reads Secrets (get, list or watch on secrets), in every namespace wherever a " +
          "ClusterRoleBinding grants it: grant it with a Role in the namespaces whose Secrets it needs, " +
          "or name them in resourceNames",
      ]);
    });
  });

  describe("admission-webhooks", () => {
    const EXCLUDES_KUBE_SYSTEM = {
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }],
    };
    const onPods = [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }];
    const webhook = (extra: Manifest = {}): Manifest => ({
      name: "inject.example.com",
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      clientConfig: { service: { name: "injector", namespace: "injector", path: "/mutate" }, caBundle: "LS0t" },
      rules: onPods,
      failurePolicy: "Fail",
      namespaceSelector: EXCLUDES_KUBE_SYSTEM,
      ...extra,
    });
    const configuration = (...webhooks: Manifest[]) => ({ metadata: { name: "injector" }, webhooks });

    it("passes a webhook that calls a Service, is sent no Secret and leaves kube-system alone", () => {
      for (const type of [T.mutatingWebhooks, T.validatingWebhooks]) {
        assert.deepEqual(admissionWebhooks(type, configuration(webhook())), [], type);
        // One that fails open may apply everywhere: an outage only stops its checks.
        assert.deepEqual(
          admissionWebhooks(type, configuration(webhook({ failurePolicy: "Ignore", namespaceSelector: undefined }))),
          [],
          type,
        );
      }
    });

    it("refuses a URL outside the cluster's Services, rules on Secrets, and failing closed for kube-system", () => {
      const who = 'MutatingWebhookConfiguration injector webhook "inject.example.com"';
      assert.deepEqual(
        admissionWebhooks(
          T.mutatingWebhooks,
          configuration(
            webhook({
              clientConfig: { url: "https://hooks.example.com/mutate" },
              rules: [...onPods, { apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*/*"] }],
              namespaceSelector: { matchLabels: { team: "api" } },
            }),
          ),
        ),
        [
          `${who} sends the objects it admits to https://hooks.example.com/mutate, ` +
            "an address outside the cluster's Services: point clientConfig.service at the webhook's Service in " +
            "the cluster instead",
          `${who} is sent every Secret it admits, with its data (rules on secrets): leave secrets out of its rules`,
        ],
      );
      const failClosed =
        'ValidatingWebhookConfiguration injector webhook "inject.example.com" fails closed (failurePolicy: ' +
        "Fail) for kube-system too, so while its Service is down the control plane's own pods cannot be created " +
        "or changed: exclude kube-system with a namespaceSelector (kubernetes.io/metadata.name NotIn [kube-system])";
      // failurePolicy defaults to Fail, namespaceSelector to every namespace.
      assert.deepEqual(
        admissionWebhooks(
          T.validatingWebhooks,
          configuration(webhook({ failurePolicy: undefined, namespaceSelector: undefined })),
        ),
        [failClosed],
      );
      assert.deepEqual(
        admissionWebhooks(
          T.validatingWebhooks,
          configuration(
            webhook({ namespaceSelector: { matchExpressions: [{ key: "team", operator: "DoesNotExist" }] } }),
          ),
        ),
        [failClosed],
      );
      // admissionregistration.k8s.io/v1beta1 defaulted failurePolicy to Ignore.
      assert.deepEqual(
        admissionWebhooks(
          "kubernetes:admissionregistration.k8s.io/v1beta1:ValidatingWebhookConfiguration",
          configuration(webhook({ failurePolicy: undefined, namespaceSelector: undefined })),
        ),
        [],
      );
    });

    it("judges each webhook a patch lists whole, since webhooks merge by name and the patch may add one", () => {
      const patch = patchOf(T.mutatingWebhooks);
      assert.deepEqual(
        admissionWebhooks(patch, configuration({ name: "inject.example.com", clientConfig: { caBundle: "LS0t" } })),
        [],
      );
      assert.deepEqual(
        admissionWebhooks(
          patch,
          configuration({ name: "new.example.com", rules: onPods, clientConfig: { caBundle: "LS0t" } }),
        ),
        [
          'MutatingWebhookConfigurationPatch injector webhook "new.example.com" fails closed (failurePolicy: ' +
            "Fail) for kube-system too, so while its Service is down the control plane's own pods cannot be " +
            "created or changed: exclude kube-system with a namespaceSelector (kubernetes.io/metadata.name NotIn " +
            "[kube-system])",
        ],
      );
    });
  });

  describe("namespace-pod-security", () => {
    const namespace = (labels: Record<string, string | null> | null) => ({ metadata: { name: "api-prod", labels } });
    const FIX =
      "label it pod-security.kubernetes.io/enforce: restricted, as the program labels the namespace it creates";

    it("passes a namespace that enforces restricted at its latest version, and a patch that leaves it so", () => {
      const labels = {
        ...names.labels("api"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      };
      assert.deepEqual(namespacePodSecurity(T.namespace, namespace(labels)), []);
      assert.deepEqual(
        namespacePodSecurity(T.namespace, namespace({ "pod-security.kubernetes.io/enforce": "restricted" })),
        [],
      );
      assert.deepEqual(namespacePodSecurity(patchOf(T.namespace), namespace({ team: "api" })), []);
      assert.deepEqual(
        namespacePodSecurity(patchOf(T.namespace), namespace({ "pod-security.kubernetes.io/enforce-version": null })),
        [],
      );
    });

    it("refuses a namespace without the label, with a weaker level, or pinned to an older standard", () => {
      assert.deepEqual(namespacePodSecurity(T.namespace, namespace({ team: "api" })), [
        "Namespace api-prod has no pod-security.kubernetes.io/enforce label, so admission lets in any pod that no " +
          `policy here checked (applied outside this stack, or created by a controller): ${FIX}`,
      ]);
      assert.deepEqual(
        namespacePodSecurity(T.namespace, namespace({ "pod-security.kubernetes.io/enforce": "baseline" })),
        [
          "Namespace api-prod enforces the baseline Pod Security level, which admits pods that run as root, " +
            `keep their capabilities and escalate privileges: ${FIX}`,
        ],
      );
      assert.deepEqual(
        namespacePodSecurity(
          T.namespace,
          namespace({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "v1.22",
          }),
        ),
        [
          "Namespace api-prod pins Pod Security to v1.22, so the checks of later Kubernetes releases do not apply: " +
            "set pod-security.kubernetes.io/enforce-version: latest (or remove it)",
        ],
      );
    });

    it("refuses a NamespacePatch that lowers the level or removes the label", () => {
      const patch = patchOf(T.namespace);
      assert.deepEqual(namespacePodSecurity(patch, namespace({ "pod-security.kubernetes.io/enforce": "privileged" })), [
        "NamespacePatch api-prod enforces the privileged Pod Security level, which admits pods with any privilege, " +
          `host access included: ${FIX}`,
      ]);
      const removed =
        "NamespacePatch api-prod removes the pod-security.kubernetes.io/enforce label, " +
        "so admission lets in any pod: keep it restricted";
      assert.deepEqual(namespacePodSecurity(patch, namespace({ "pod-security.kubernetes.io/enforce": null })), [
        removed,
      ]);
      assert.deepEqual(namespacePodSecurity(patch, namespace(null)), [removed]);
    });
  });
});
