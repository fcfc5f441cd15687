// Pulling from a registry that requires a login, on the real node: the test bed's authenticated
// registry (testbed/docker-env) beside the plain loopback one. With imagePullUsername and
// imagePullPassword the node pulls every pod's image with the stack's dockerconfigjson Secret;
// without them the pull is refused, and the pod says so.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { localEnvironment, localShape, type ConfigValues } from "../../tools/automation";
import { docker, push } from "../../tools/images";
import { destroyStack, eventually, kubectlJson, newStack, progress } from "./env";
import { buildReleases } from "../support/releases";

const SECRETS = {
  secretKey: "e2e-private-secret-key-0123456789abcdef0123456789abcdef",
  devPostgresPassword: "e2e-postgres-password",
  apiTokens: "e2e-private-api-token-0123456789abcdef0123",
};
const auth = () => localEnvironment().authRegistry;

/**
 * Pushes a local image to the authenticated registry as `name`, logged in through a Docker
 * config of its own (the machine's stays as it was); returns its digest-pinned reference. Each
 * image pushed here is a release of this run, so the node has never pulled it by this name.
 */
function pushPrivately(image: string, name: string): string {
  const { address, username, password } = auth();
  const config = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-docker-config-"));
  const previous = process.env.DOCKER_CONFIG;
  process.env.DOCKER_CONFIG = config;
  try {
    execFileSync("docker", ["login", "--username", username, "--password-stdin", address], {
      input: password,
      stdio: ["pipe", "ignore", "pipe"],
    });
    const tag = `${address}/api-stack/private:${name}`;
    docker("tag", image, tag);
    return push(tag);
  } finally {
    if (previous === undefined) {
      delete process.env.DOCKER_CONFIG;
    } else {
      process.env.DOCKER_CONFIG = previous;
    }
    fs.rmSync(config, { recursive: true, force: true });
  }
}

/** A dev-shaped stack of its own namespace, deploying `image`. */
function privateStack(name: string, image: string, extra: ConfigValues, secret: string[] = []): Promise<Stack> {
  return newStack(
    name,
    {
      ...localShape("dev", image, SECRETS),
      namespace: `api-${name}`,
      ingressHost: `${name}.e2e.localhost`,
      hpaEnabled: false,
      replicas: 1,
      ...extra,
    },
    [...Object.keys(SECRETS), ...secret],
  );
}

const podsOf = (namespace: string) => kubectlJson("get", "pods", "-n", namespace).items as any[];

describe("a registry that requires a login (real node)", function () {
  this.timeout(20 * 60_000);
  const stacks: Stack[] = [];
  let withLogin: string, withoutLogin: string;

  before(() => {
    const [, r2, r3] = buildReleases(3);
    withLogin = pushPrivately(r2, "with-login");
    withoutLogin = pushPrivately(r3, "without-login");
    progress(`private registry: ${withLogin}, ${withoutLogin}`);
  });

  after(async () => {
    for (const stack of stacks) {
      await destroyStack(stack);
    }
  });

  it("with the stack's login, every pod of the app's image pulls from it and runs", async () => {
    const { username, password } = auth();
    const stack = await privateStack(
      "e2eprivate",
      withLogin,
      { imagePullUsername: username, imagePullPassword: password },
      ["imagePullPassword"],
    );
    stacks.push(stack);
    progress("private registry: pulumi up with the login");
    const result = await stack.up({ onOutput: () => undefined });
    assert.equal(result.summary.result, "succeeded");

    const secret = kubectlJson("get", "secret", "api-registry", "-n", "api-e2eprivate");
    assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
    const pods = podsOf("api-e2eprivate").filter((pod) => pod.spec.containers[0].image === withLogin);
    const components = pods.map((pod) => pod.metadata.labels["app.kubernetes.io/component"]).sort();
    assert.deepEqual([...new Set(components)], ["api", "migration", "worker"]);
    for (const pod of pods) {
      assert.deepEqual(pod.spec.imagePullSecrets, [{ name: "api-registry" }], pod.metadata.name);
      assert.ok(pod.status.containerStatuses[0].imageID, `${pod.metadata.name} pulled its image`);
    }
    const state = JSON.stringify(await stack.exportStack());
    const auth64 = Buffer.from(`${username}:${password}`).toString("base64");
    assert.ok(!state.includes(password) && !state.includes(auth64), "the login appears in plaintext in the state");
    const pulled = kubectlJson("get", "events", "-n", "api-e2eprivate", "--field-selector", "reason=Pulled").items;
    assert.ok(
      pulled.some((event: any) => event.message.includes(withLogin.split("@")[0])),
      "the node pulled the image from the authenticated registry",
    );
  });

  it("without a login the node is refused, and the pod's pull error says it was not authorized", async () => {
    const stack = await privateStack("e2enologin", withoutLogin, {
      migrationTimeoutSeconds: 30,
      migrationStatementTimeoutSeconds: 20,
    });
    stacks.push(stack);
    progress("private registry: pulumi up without the login (the migration Job's 30 s deadline ends it)");
    const up = stack.up({ onOutput: () => undefined });
    const refused = await eventually("a pull refused for want of a login", 120, () =>
      podsOf("api-e2enologin")
        .flatMap((pod) => pod.status.containerStatuses ?? [])
        .map((status: any) => status.state?.waiting)
        .find((waiting: any) => ["ErrImagePull", "ImagePullBackOff"].includes(waiting?.reason) && waiting.message),
    );
    progress(`private registry: ${refused.reason}: ${refused.message}`);
    assert.match(refused.message, /unauthori[sz]ed|authoriz/i);
    assert.match(refused.message, new RegExp(withoutLogin.split("@")[0].replace(/[.]/g, "\\.")));
    await assert.rejects(up, /migration/i);
  });
});
