// The main job on the local environment: the dev stack's shape, deployed by the real engine to
// the cluster of testbed/local-env, whose node really runs the pods; it ends by calling the API
// through the ingress controller on loopback. The image is built by dockerd and pushed to the
// loopback registry first, then deployed by digest (`imageRef`), because the docker provider
// plugin cannot be built here. The stack lives under $API_STACK_STATE, not in the repository.
//   ts-node scripts/local.ts [up|preview|destroy]
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import {
  buildDevImage,
  localEnvironment,
  localShape,
  setConfig,
  sideStack,
  stackFileString,
} from "../tools/automation";

const STATE = process.env.API_STACK_STATE;
if (!STATE) {
  throw new Error("API_STACK_STATE is not set: run this through scripts/local-up");
}
const PASSPHRASE_NOTE = "local stacks guard only throwaway in-cluster data";

async function main(action: string) {
  const stack = await sideStack("local", {
    workDir: path.join(STATE!, "pulumi", "project"),
    backendDir: path.join(STATE!, "pulumi", "state"),
    // Published on purpose (see PASSPHRASE_NOTE); a shared stack uses a real secrets provider.
    passphrase: "api-stack-local",
    kubeconfig: path.join(STATE!, "kubeconfig"),
  });
  const print = (text: string) => process.stdout.write(text);

  if (action === "destroy") {
    await stack.destroy({ onOutput: print });
    return;
  }

  // The dev stack file names no registry (README: "Your own cluster"); here it is the loopback one.
  const local = localEnvironment();
  const imageRepository = `${local.registry}/api-stack/fastapi`;
  console.log(`==> building the dev stack's image and pushing it to ${imageRepository}`);
  const imageRef = buildDevImage(`${imageRepository}:local`, local);
  console.log(`==> built ${imageRef}`);

  // Secrets are made once and kept in the stack, so re-running does not roll the pods.
  const current = await stack.getAllConfig();
  const secrets: Record<string, string> = {};
  for (const key of ["secretKey", "devPostgresPassword", "apiTokens"]) {
    // Made when missing (apiTokens, in a stack made before the apps required it), and replaced
    // when shorter than secretKey's rule (a stack made by an earlier version).
    if ((current[`api-stack:${key}`]?.value.length ?? 0) < 50) {
      secrets[key] = randomBytes(32).toString("hex");
    }
  }
  await setConfig(stack, localShape("dev", imageRef, secrets, local), Object.keys(secrets));

  if (action === "preview") {
    await stack.preview({ onOutput: print, refresh: true });
    return;
  }
  // The cluster does not outlive `testbed/local-env down`, but this state does: read the
  // cluster first, so objects that went away with it are created again instead of patched.
  const result = await stack.up({ onOutput: print, refresh: true });
  console.log(`\n==> stack outputs (the passphrase is public: ${PASSPHRASE_NOTE})`);
  for (const [name, output] of Object.entries(result.outputs)) {
    console.log(`    ${name}: ${JSON.stringify(output.value)}`);
  }
  const host = stackFileString("dev", "ingressHost");
  const answer = await get(host, "/health/ready");
  // Every /notes request needs a bearer token of apiTokens: kept beside the stack for the curl below.
  const tokenFile = path.join(STATE!, "api-token");
  fs.writeFileSync(tokenFile, (await stack.getConfig("api-stack:apiTokens")).value, { mode: 0o600 });
  console.log(
    `\n==> the dev API serves at http://${host}/ (Traefik on 127.0.0.1:80; *.localhost names resolve to loopback)`,
  );
  console.log(`    GET http://${host}/health/ready -> ${answer.status} ${answer.body}`);
  console.log(
    `==> try: curl -s http://${host}/notes -H "authorization: Bearer $(cat ${tokenFile})" ` +
      `-H 'content-type: application/json' -d '{"title": "hello"}'`,
  );
  console.log(`==> pods: kubectl --kubeconfig ${path.join(STATE!, "kubeconfig")} -n api-dev get pods`);
}

/** One request through the ingress controller on loopback, as a browser resolving the host would send it. */
function get(host: string, requestPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: "127.0.0.1", port: 80, path: requestPath, headers: { host }, timeout: 10_000 },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: body.trim() }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer from http://${host}${requestPath} within 10 s`)));
    request.on("error", reject);
  });
}

main(process.argv[2] ?? "up").catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
