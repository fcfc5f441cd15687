// Stand-ins for a production stack's "external" Postgres and Redis: the local service images as
// pods in a namespace of their own, reached through the stack's NetworkPolicy egress, as managed
// databases would be, and over TLS as prod requires: a certificate from the test bed's CA
// (cert-manager's ClusterIssuer local-ca). The app images do not trust that CA, so the URLs ask
// for encryption without checking the server (sslmode=require, ssl_cert_reqs=none). Used by the
// prod end-to-end tests and the delivery path.
import { execFileSync } from "node:child_process";
import { LOCAL_CLUSTER_ISSUER, localEnvironment } from "./automation";

export interface ExternalDatabases {
  databaseUrl: string;
  redisUrl: string;
}

/** The URLs of the stand-ins in `namespace`, known before they start. */
export function externalDatabaseUrls(namespace: string, password: string): ExternalDatabases {
  return {
    databaseUrl: `postgresql://app:${password}@postgres.${namespace}.svc.cluster.local:5432/app?sslmode=require`,
    redisUrl: `rediss://redis.${namespace}.svc.cluster.local:6379/0?ssl_cert_reqs=none`,
  };
}

/** Starts Postgres and Redis in `namespace` (kubectl of `kubeconfig`) and waits until both are ready. */
export function startExternalDatabases(kubeconfig: string, namespace: string, password: string): ExternalDatabases {
  const local = localEnvironment();
  const manifest = `
apiVersion: v1
kind: Namespace
metadata: {name: ${namespace}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: databases-tls, namespace: ${namespace}}
spec:
  secretName: databases-tls
  issuerRef: {name: ${LOCAL_CLUSTER_ISSUER}, kind: ClusterIssuer}
  dnsNames: [postgres.${namespace}.svc.cluster.local, redis.${namespace}.svc.cluster.local]
---
apiVersion: v1
kind: Pod
metadata: {name: postgres, namespace: ${namespace}, labels: {app: postgres}}
spec:
  securityContext: {runAsUser: 70, runAsGroup: 70, fsGroup: 70, runAsNonRoot: true}
  containers:
  - name: postgres
    image: ${local.postgresImage}
    env:
    - {name: POSTGRES_USER, value: app}
    - {name: POSTGRES_DB, value: app}
    - {name: POSTGRES_PASSWORD, value: ${password}}
    - {name: PGDATA, value: /data/pgdata}
    # The key is root's, readable by the server's group only (0440): what Postgres accepts.
    args: [-c, ssl=on, -c, ssl_cert_file=/tls/tls.crt, -c, ssl_key_file=/tls/tls.key]
    readinessProbe: {exec: {command: [pg_isready, -U, app, -h, 127.0.0.1]}, periodSeconds: 2}
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: run, mountPath: /var/run/postgresql}
    - {name: tmp, mountPath: /tmp}
    - {name: tls, mountPath: /tls, readOnly: true}
  volumes:
  - {name: data, emptyDir: {}}
  - {name: run, emptyDir: {}}
  - {name: tmp, emptyDir: {}}
  - {name: tls, secret: {secretName: databases-tls, defaultMode: 0440}}
---
apiVersion: v1
kind: Pod
metadata: {name: redis, namespace: ${namespace}, labels: {app: redis}}
spec:
  securityContext: {runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true}
  containers:
  - name: redis
    image: ${local.redisImage}
    # TLS only: no plain-text port. Clients are not asked for a certificate.
    args: [--port, "0", --tls-port, "6379", --tls-cert-file, /tls/tls.crt, --tls-key-file, /tls/tls.key,
      --tls-ca-cert-file, /tls/ca.crt, --tls-auth-clients, "no"]
    readinessProbe:
      exec: {command: [redis-cli, --tls, --cacert, /tls/ca.crt, ping]}
      periodSeconds: 2
    volumeMounts: [{name: data, mountPath: /data}, {name: tls, mountPath: /tls, readOnly: true}]
  volumes: [{name: data, emptyDir: {}}, {name: tls, secret: {secretName: databases-tls, defaultMode: 0440}}]
---
apiVersion: v1
kind: Service
metadata: {name: postgres, namespace: ${namespace}}
spec: {selector: {app: postgres}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: ${namespace}}
spec: {selector: {app: redis}, ports: [{port: 6379}]}
`;
  const kubectl = (args: string[], input?: string) =>
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], { input, stdio: ["pipe", "ignore", "inherit"] });
  kubectl(["apply", "-f", "-"], manifest);
  kubectl(["wait", "-n", namespace, "--for=condition=Ready", "certificate/databases-tls", "--timeout=120s"]);
  kubectl(["wait", "-n", namespace, "--for=condition=Ready", "pod/postgres", "pod/redis", "--timeout=180s"]);
  return externalDatabaseUrls(namespace, password);
}
