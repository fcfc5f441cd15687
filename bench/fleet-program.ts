// The fleet benchmark's program (bench/fleet.ts): the stack's config read and checked once, then
// one ApiStack per API, each in its own namespace, behind its own host, on a database of its own,
// and each reading its own live release from the cluster (as tests/e2e/fleet.test.ts does for
// two). In render mode every API's manifests go to the one directory, as index.ts does for one.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { clusterReleaseReader, noClusterReader } from "../components/api/cluster-reader";
import { ApiStack } from "../components/api-stack";
import { SecretValue } from "../components/secret";
import { loadStackConfig } from "../config";

/** One API of the fleet. */
export interface FleetMember {
  appName: string;
  namespace: string;
  host: string;
  /** Its own database on the stack's external Postgres (databaseUrl with this database name). */
  database: string;
}

export async function fleetProgram(members: FleetMember[]): Promise<Record<string, unknown>> {
  const { args, renderYamlTo, cluster } = await loadStackConfig();
  let readRelease = clusterReleaseReader(cluster);
  const opts: pulumi.ComponentResourceOptions = {};
  if (renderYamlTo) {
    readRelease = noClusterReader("render mode writes manifests and reads no cluster");
    opts.providers = {
      kubernetes: new k8s.Provider("render", { renderYamlToDirectory: renderYamlTo, kubeconfig: "" }),
    };
  }
  const databaseUrl = args.secrets.databaseUrl;
  if (!databaseUrl || !args.ingress) {
    throw new Error("the fleet's stack needs databaseUrl (an external Postgres) and an Ingress");
  }
  const outputs: Record<string, unknown> = {};
  for (const member of members) {
    const url = new URL(databaseUrl.reveal());
    url.pathname = `/${member.database}`;
    const api = new ApiStack(
      member.appName,
      {
        ...args,
        app: { ...args.app, appName: member.appName },
        namespace: member.namespace,
        ingress: { ...args.ingress, host: member.host },
        secrets: { ...args.secrets, databaseUrl: new SecretValue(url.toString()) },
        readRelease,
      },
      opts,
    );
    outputs[member.appName] = api.release;
  }
  return outputs;
}
