// pod-security, host-namespaces, volume-types and host-ports: every pod-bearing kind, as the program
// builds its pods and changed where each rule looks, whole objects and patches.
import { strict as assert } from "node:assert";
import { hostNamespaces, hostPorts } from "../../../policy/rules/host";
import { podSecurity } from "../../../policy/rules/pod-security";
import { volumeTypes } from "../../../policy/rules/volumes";
import {
  apiContainer,
  apiTemplate,
  deployment,
  IMAGE,
  metadata,
  migrationJob,
  POD_BEARING,
  podPatch,
  podSpec,
  rollout,
  service,
  T,
  workerDeployment,
} from "./fixtures";

describe("policy rules: pods", () => {
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
        'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ' +
          "true and mount an emptyDir where it must write (such as /tmp)",
        'container "api" may escalate privileges: set securityContext.allowPrivilegeEscalation: false',
        'container "api" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]',
        'container "api" runs without a seccomp profile: set securityContext.seccompProfile.type: ' +
          "RuntimeDefault on the pod or the container",
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
        'container "worker" adds capabilities SYS_ADMIN: remove them from securityContext.capabilities.add (only ' +
          "NET_BIND_SERVICE may be added back)",
        'container "worker" runs with seccomp profile Unconfined: set securityContext.seccompProfile.type: ' +
          "RuntimeDefault on the pod or the container",
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
        'init container "wait-for-db" may run as root: set securityContext.runAsNonRoot: ' +
          "true on the pod or the container",
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
        'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ' +
          "true and mount an emptyDir where it must write (such as /tmp)",
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

    /** A container of a patch that states every setting the restricted level asks for. */
    const lockedDown = (name = "api") => ({
      name,
      image: IMAGE,
      securityContext: {
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
    });

    it(
      "judges a patch's pod-level settings by what it sets: weaker values and removals fail, " +
        "what it leaves out passes",
      () => {
        for (const [type] of POD_BEARING) {
          assert.deepEqual(podSecurity(...podPatch(type, { terminationGracePeriodSeconds: 60 })), [], type);
          assert.deepEqual(podSecurity(...podPatch(type, { securityContext: { runAsNonRoot: true } })), [], type);
          assert.deepEqual(
            podSecurity(...podPatch(type, { securityContext: { runAsNonRoot: false } })),
            ["pod may run as root: set securityContext.runAsNonRoot: true on the pod or the container"],
            type,
          );
        }
        // null removes a field, and everything below it.
        assert.deepEqual(
          podSecurity(...podPatch(T.deployment, { securityContext: { runAsUser: 0, seccompProfile: null } })),
          [
            "pod runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true",
            "pod runs without a seccomp profile: set securityContext.seccompProfile.type: " +
              "RuntimeDefault on the pod or the container",
          ],
        );
      },
    );

    it("judges each container a patch lists whole, since server-side apply adds one the patched object lacks", () => {
      const sidecar = { name: "sidecar", image: IMAGE };
      const unlocked = (who: string) => [
        `${who} may run as root: set securityContext.runAsNonRoot: true on the pod or the container`,
        `${who} has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ` +
          "true and mount an emptyDir where it must write (such as /tmp)",
        `${who} may escalate privileges: set securityContext.allowPrivilegeEscalation: false`,
        `${who} keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]`,
        `${who} runs without a seccomp profile: set securityContext.seccompProfile.type: ` +
          "RuntimeDefault on the pod or the container",
      ];
      for (const [type] of POD_BEARING) {
        assert.deepEqual(
          podSecurity(...podPatch(type, { containers: [sidecar] })),
          unlocked('container "sidecar"'),
          type,
        );
        // A patch that only changes an image cannot be told from one that adds a container by that name.
        assert.deepEqual(
          podSecurity(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })),
          unlocked('container "api"'),
          type,
        );
        assert.deepEqual(podSecurity(...podPatch(type, { containers: [lockedDown()] })), [], type);
        assert.deepEqual(podSecurity(...podPatch(type, { initContainers: [lockedDown("wait")] })), [], type);
      }
      // runAsNonRoot and the seccomp profile may come from the pod level of the same patch.
      const { runAsNonRoot, seccompProfile, ...rest } = lockedDown().securityContext;
      assert.deepEqual(
        podSecurity(
          ...podPatch(T.deployment, {
            securityContext: { runAsNonRoot, seccompProfile },
            containers: [{ name: "api", securityContext: rest }],
          }),
        ),
        [],
      );
    });

    it("fails a patch for every weaker value it sets, at either level", () => {
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
        assert.deepEqual(
          podSecurity(...podPatch(type, weak)),
          [
            "pod may run as root: set securityContext.runAsNonRoot: true on the pod or the container",
            'container "api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
            'container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ' +
              "true and mount an emptyDir where it must write (such as /tmp)",
            'container "api" is privileged: remove securityContext.privileged',
            'container "api" may escalate privileges: set securityContext.allowPrivilegeEscalation: false',
            'container "api" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]',
            'container "api" adds capabilities SYS_ADMIN: remove them from securityContext.capabilities.add (only ' +
              "NET_BIND_SERVICE may be added back)",
            'container "api" runs with seccomp profile Unconfined: set securityContext.seccompProfile.type: ' +
              "RuntimeDefault on the pod or the container",
          ],
          type,
        );
      }
      // A container whose securityContext a patch removes runs with the pod's settings of that patch.
      assert.deepEqual(
        podSecurity(
          ...podPatch(T.deployment, {
            securityContext: { runAsUser: 0 },
            initContainers: [{ name: "wait", securityContext: null }],
          }),
        ),
        [
          "pod runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true",
          'init container "wait" runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true',
          'init container "wait" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ' +
            "true and mount an emptyDir where it must write (such as /tmp)",
          'init container "wait" may escalate privileges: set securityContext.allowPrivilegeEscalation: false',
          'init container "wait" keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]',
          'init container "wait" runs without a seccomp profile: set securityContext.seccompProfile.type: ' +
            "RuntimeDefault on the pod or the container",
        ],
      );
    });
  });

  describe("pod-security: the baseline controls beside the security context's required settings", () => {
    const job = () => migrationJob();
    const podOf = (object: any) => object.spec.template;

    it(
      "passes the confinement Pod Security allows: RuntimeDefault or Localhost AppArmor, container SELinux types, " +
        "safe sysctls",
      () => {
        const object = job();
        const { spec } = podOf(object);
        Object.assign(spec.securityContext, {
          appArmorProfile: { type: "RuntimeDefault" },
          seLinuxOptions: { type: "container_t", level: "s0:c123,c456" },
          sysctls: [
            { name: "net.ipv4.ip_unprivileged_port_start", value: "0" },
            { name: "net.ipv4.tcp_keepalive_time", value: "60" },
          ],
        });
        Object.assign(spec.containers[0].securityContext, {
          appArmorProfile: { type: "Localhost", localhostProfile: "api" },
          seLinuxOptions: { type: "container_init_t" },
          procMount: "Default",
        });
        podOf(object).metadata.annotations = {
          [`container.apparmor.security.beta.kubernetes.io/${spec.containers[0].name}`]: "runtime/default",
          "container.apparmor.security.beta.kubernetes.io/other": "localhost/api",
        };
        spec.containers[0].readinessProbe = { httpGet: { path: "/health/ready", port: 8000, host: "" } };
        assert.deepEqual(podSecurity(T.job, object), []);
      },
    );

    it("refuses AppArmor unconfined, by field at either level or by annotation", () => {
      const object = job();
      const { spec } = podOf(object);
      spec.securityContext.appArmorProfile = { type: "Unconfined" };
      spec.containers[0].securityContext.appArmorProfile = { type: "Unconfined" };
      podOf(object).metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/migration": "unconfined" };
      assert.deepEqual(podSecurity(T.job, object), [
        "pod runs unconfined by AppArmor: remove securityContext.appArmorProfile or set its type to RuntimeDefault",
        "pod annotation container.apparmor.security.beta.kubernetes.io/migration: " +
          'unconfined runs container "migration" without its AppArmor profile: remove the annotation (or set it ' +
          "to runtime/default)",
        'container "migration" runs unconfined by AppArmor: remove securityContext.appArmorProfile or set its type ' +
          "to RuntimeDefault",
      ]);
    });

    it("refuses an SELinux type outside the container types, and any SELinux user or role", () => {
      const object = job();
      const { spec } = podOf(object);
      spec.securityContext.seLinuxOptions = { type: "spc_t" };
      spec.containers[0].securityContext.seLinuxOptions = { user: "system_u", role: "system_r" };
      assert.deepEqual(podSecurity(T.job, object), [
        "pod runs with the SELinux type spc_t, which is not confined as a container: " +
          "remove securityContext.seLinuxOptions.type (the runtime sets container_t)",
        'container "migration" sets the SELinux user system_u: remove securityContext.seLinuxOptions.user, ' +
          "which the runtime chooses",
        'container "migration" sets the SELinux role system_r: remove securityContext.seLinuxOptions.role, ' +
          "which the runtime chooses",
      ]);
    });

    it("refuses an unmasked /proc and an unsafe sysctl", () => {
      const object = job();
      const { spec } = podOf(object);
      spec.securityContext.sysctls = [
        { name: "net.ipv4.tcp_syncookies", value: "1" },
        { name: "kernel.core_pattern", value: "|/tmp/x" },
        { name: "net.ipv4.ip_forward", value: "1" },
      ];
      spec.containers[0].securityContext.procMount = "Unmasked";
      assert.deepEqual(podSecurity(T.job, object), [
        "pod sets the sysctls kernel.core_pattern, net.ipv4.ip_forward, which are not isolated to the pod and " +
          "reach into the node's kernel: remove them from securityContext.sysctls (only those Pod Security calls " +
          "safe may be set; docs/policy.md lists them)",
        'container "migration" unmasks /proc (securityContext.procMount: Unmasked), ' +
          "which exposes the node's kernel interfaces: remove procMount",
      ]);
    });

    it("refuses a probe or a lifecycle hook aimed at another host than the pod", () => {
      const object = deployment();
      const container = apiContainer(object);
      container.livenessProbe = { tcpSocket: { host: "10.0.0.1", port: 22 } };
      container.lifecycle = { preStop: { httpGet: { host: "169.254.169.254", path: "/", port: 80 } } };
      assert.deepEqual(podSecurity(T.deployment, object), [
        `container "api" aims livenessProbe.tcpSocket at host 10.0.0.1, which the kubelet reaches from the node's ` +
          "network on its behalf: remove livenessProbe.tcpSocket.host so it targets the pod itself",
        'container "api" aims lifecycle.preStop.httpGet at host 169.254.169.254, which the kubelet reaches from ' +
          "the node's network on its behalf: remove lifecycle.preStop.httpGet.host so it targets the pod itself",
      ]);
    });

    it(
      "judges the baseline controls a patch sets, on every pod-bearing kind; what it removes falls back to the " +
        "runtime's default",
      () => {
        for (const [type] of POD_BEARING) {
          assert.deepEqual(
            podSecurity(
              ...podPatch(type, {
                securityContext: { sysctls: [{ name: "kernel.msgmax", value: "65536" }], appArmorProfile: null },
              }),
            ),
            [
              "pod sets the sysctls kernel.msgmax, which are not isolated to the pod and reach into the node's " +
                "kernel: remove them from securityContext.sysctls (only those Pod Security calls safe may be set; " +
                "docs/policy.md lists them)",
            ],
            type,
          );
        }
        const [type, props] = podPatch(T.deployment, {});
        props.spec.template.metadata = {
          annotations: { "container.apparmor.security.beta.kubernetes.io/api": "unconfined" },
        };
        assert.deepEqual(podSecurity(type, props), [
          'pod annotation container.apparmor.security.beta.kubernetes.io/api: unconfined runs container "api" ' +
            "without its AppArmor profile: remove the annotation (or set it to runtime/default)",
        ]);
        props.spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/api"] = null;
        assert.deepEqual(podSecurity(type, props), []);
      },
    );

    it("checks the baseline controls on every pod-bearing kind", () => {
      for (const [type, make] of POD_BEARING) {
        const object = make();
        podSpec(type, object).securityContext.seLinuxOptions = { type: "unconfined_t" };
        assert.deepEqual(
          podSecurity(type, object),
          [
            "pod runs with the SELinux type unconfined_t, which is not confined as a container: " +
              "remove securityContext.seLinuxOptions.type (the runtime sets container_t)",
          ],
          type,
        );
      }
      assert.deepEqual(apiTemplate().spec.securityContext.sysctls, undefined, "the program sets no sysctls");
    });
  });

  describe("volume-types", () => {
    const withVolume = (volume: object) => {
      const object = deployment();
      object.spec.template.spec.volumes.push({ name: "data", ...volume });
      return object;
    };
    const refused = (type: string, why: string) =>
      `pod mounts a ${type} volume ("data"), ${why}: use an emptyDir, a ConfigMap or Secret, ` +
      "or a PersistentVolumeClaim instead (the restricted Pod Security level allows only configMap, csi, " +
      "downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret volumes)";
    const AROUND_PVS =
      "which the node mounts for the pod itself, around the PersistentVolumes and access control the cluster manages";

    it("passes every volume type the restricted level allows", () => {
      const allowed = [
        { configMap: { name: "api-settings" } },
        { csi: { driver: "secrets-store.csi.k8s.io", readOnly: true } },
        { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        { emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
        { ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } },
        { image: { reference: IMAGE } },
        { persistentVolumeClaim: { claimName: "data" } },
        { projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
        { secret: { secretName: "api-secrets" } },
      ];
      for (const volume of allowed) {
        assert.deepEqual(volumeTypes(T.deployment, withVolume(volume)), [], JSON.stringify(volume));
      }
    });

    it("refuses every other type, those it knows by name and those it does not", () => {
      const cases: [object, string, string][] = [
        [
          { gitRepo: { repository: "https://example.com/r.git" } },
          "gitRepo",
          "which the node clones with its own git, as root on the node",
        ],
        [{ flexVolume: { driver: "example.com/host" } }, "flexVolume", "whose driver runs as root on the node"],
        [{ nfs: { server: "10.0.0.1", path: "/" } }, "nfs", AROUND_PVS],
        [{ iscsi: { targetPortal: "10.0.0.1:3260", iqn: "iqn.2001-04.com.example:x", lun: 0 } }, "iscsi", AROUND_PVS],
        [{ cephfs: { monitors: ["10.0.0.1:6789"] } }, "cephfs", AROUND_PVS],
        [{ futureVolume: { path: "/" } }, "futureVolume", AROUND_PVS],
      ];
      for (const [volume, type, why] of cases) {
        assert.deepEqual(volumeTypes(T.deployment, withVolume(volume)), [refused(type, why)], type);
      }
    });

    it("judges the volume source a patch sets, and lets one that sets none or removes one pass", () => {
      for (const [type] of POD_BEARING) {
        assert.deepEqual(
          volumeTypes(...podPatch(type, { volumes: [{ name: "data", nfs: { server: "10.0.0.1", path: "/" } }] })),
          [refused("nfs", AROUND_PVS)],
          type,
        );
        assert.deepEqual(volumeTypes(...podPatch(type, { volumes: [{ name: "data" }] })), [], type);
        assert.deepEqual(
          volumeTypes(...podPatch(type, { volumes: [{ name: "data", hostPath: null, emptyDir: {} }] })),
          [],
          type,
        );
      }
    });

    it("refuses a PersistentVolume that is a directory of a node, and passes one of a storage system", () => {
      const pv = (spec: object) => ({ metadata: { name: "data" }, spec: { capacity: { storage: "1Gi" }, ...spec } });
      assert.deepEqual(volumeTypes(T.persistentVolume, pv({ hostPath: { path: "/var/lib/data" } })), [
        "PersistentVolume data is the node's /var/lib/data (spec.hostPath), which any pod that claims it can read " +
          "or change: claim volumes of a StorageClass that provisions them instead",
      ]);
      assert.deepEqual(volumeTypes(`${T.persistentVolume}Patch`, pv({ local: { path: "/mnt/disk" } })), [
        "PersistentVolumePatch data is the node's /mnt/disk (spec.local), which any pod that claims it can read or " +
          "change: claim volumes of a StorageClass that provisions them instead",
      ]);
      assert.deepEqual(
        volumeTypes(T.persistentVolume, pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-1" } })),
        [],
      );
    });
  });

  describe("host-namespaces, volume-types, host-ports", () => {
    const NAMESPACES = [
      "pod shares the node's network namespace, so it can bind the node's ports and reach every service listening " +
        "on the node: remove spec.hostNetwork",
      "pod shares the node's process namespace, so it can see, and signal, every process on the node: " +
        "remove spec.hostPID",
      "pod shares the node's IPC namespace, so it can read other processes' shared memory: remove spec.hostIPC",
    ];
    const HOST_PATH =
      `pod mounts the node's /var/run/docker.sock (volume "docker"), which lets it read or change the node: ` +
      "use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead of a hostPath volume";
    const hostPort = (container = "api") =>
      `container "${container}" binds port 80 of its node (hostPort of containerPort 8000), ` +
      "around its Service and the Ingress and onto every address of the node: remove hostPort";
    const docker = { name: "docker", hostPath: { path: "/var/run/docker.sock", type: "Socket" } };

    it("pass every pod-bearing kind as the program builds its pods", () => {
      for (const [type, make] of POD_BEARING) {
        for (const rule of [hostNamespaces, volumeTypes, hostPorts]) {
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
        assert.deepEqual(volumeTypes(type, object), [HOST_PATH], type);
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
        "pod runs as a Windows host process, with the node's privileges: " +
          "remove securityContext.windowsOptions.hostProcess",
        `init container "wait" runs as a Windows host process, with the node's privileges: ` +
          "remove securityContext.windowsOptions.hostProcess",
      ]);
      assert.deepEqual(hostPorts(T.deployment, object), [
        'init container "wait" binds port 9000 of its node (hostPort of containerPort 9000), ' +
          "around its Service and the Ingress and onto every address of the node: remove hostPort",
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
        assert.deepEqual(volumeTypes(...patch), [HOST_PATH], type);
        assert.deepEqual(hostPorts(...patch), [hostPort()], type);
        const harmless = podPatch(type, {
          volumes: [{ name: "tmp", emptyDir: {} }],
          containers: [{ name: "api", ports: [{ containerPort: 8000 }] }],
        });
        for (const rule of [hostNamespaces, volumeTypes, hostPorts]) {
          assert.deepEqual(rule(...harmless), [], `${rule.name} ${type}`);
        }
      }
    });
  });
});
