// Upgrading a live stack: stacks deployed by the code of an earlier release (a git worktree of it,
// with its own packages) are previewed by today's code, which must not delete or replace any live
// object except the ones a release replaces by design. The earlier code wrote settings its own
// images never accepted, so the pods of its namespaces are sent to the simulated (kwok) node as
// they are created (tools/simulated-node.ts), while every other pod of the cluster schedules as
// usual: this test is about the objects, which the real apiserver and Argo Rollouts handle as usual.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { setConfig, sideStack } from "../../tools/automation";
import { PROJECT_DIR } from "../../tools/program";
import { onSimulatedNode } from "../../tools/simulated-node";
import { KUBECONFIG, progress } from "./env";
import { baseRelease } from "../support/releases";

/** The last release before the redesign of components, config and release state. */
const UPGRADE_FROM = "bb4c129";
const SECRETS = {
  secretKey: "e2e-upgrade-secret-key-0123456789abcdef0123456789abcdef",
  devPostgresPassword: "e2e-postgres-password",
};
/** The API tokens the upgrade adds: the earlier code had no such key (and refused unknown ones). */
const API_TOKENS = "e2e-upgrade-api-token-0123456789abcdef0123456789";
/** The prefix of the namespaces below, whose pods go to the simulated node. */
const NAMESPACE_PREFIX = "api-e2eupgrade";
const SHAPES = [
  { stack: "e2eupgradedev", namespace: "api-e2eupgradedev", extra: {} },
  { stack: "e2eupgradebg", namespace: "api-e2eupgradebg", extra: { strategy: "blueGreen" } },
];

/**
 * What a release replaces by design: the settings ConfigMap and Secret (named by their content),
 * the release Jobs (named by image and settings), and the stack's reference to itself that the
 * earlier code kept, with the provider that served it (nothing in the cluster).
 */
function replacedByDesign(type: string, urn: string): boolean {
  return (
    (type === "kubernetes:core/v1:ConfigMap" && urn.endsWith("-settings")) ||
    (type === "kubernetes:core/v1:Secret" && urn.endsWith("-secrets")) ||
    type === "kubernetes:batch/v1:Job" ||
    type === "pulumi:pulumi:StackReference" ||
    type === "pulumi:providers:pulumi"
  );
}

describe("upgrading stacks of an earlier release", function () {
  this.timeout(20 * 60_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-upgrade-"));
  const tree = path.join(work, "tree");
  const dirs = { backendDir: path.join(work, "state"), passphrase: "api-stack-e2e", kubeconfig: KUBECONFIG };

  before(function () {
    progress(`upgrade: the code of ${UPGRADE_FROM} in a worktree, with its own packages`);
    execFileSync("git", ["-C", PROJECT_DIR, "worktree", "add", "--detach", tree, UPGRADE_FROM], { stdio: "ignore" });
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: tree, stdio: "ignore" });
  });

  after(async () => {
    for (const shape of SHAPES) {
      const stack = await sideStack(shape.stack, { ...dirs, workDir: path.join(work, shape.stack) }).catch(
        () => undefined,
      );
      await stack?.destroy({ onOutput: () => undefined }).catch(() => undefined);
    }
    execFileSync("git", ["-C", PROJECT_DIR, "worktree", "remove", "--force", tree], { stdio: "ignore" });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it(`stacks made by ${UPGRADE_FROM}: today's preview replaces and deletes nothing a release does not`, async () => {
    const image = baseRelease();
    await onSimulatedNode(KUBECONFIG, NAMESPACE_PREFIX, () => {
      for (const shape of SHAPES) {
        progress(`upgrade: ${shape.stack} deployed by ${UPGRADE_FROM}`);
        // The earlier code's own helpers, run by its own ts-node, as its users ran it.
        const driver = path.join(tree, "upgrade-driver.ts");
        fs.writeFileSync(
          driver,
          `import { localShape, setConfig, sideStack } from "./scripts/automation";\n` +
            `(async () => {\n` +
            `  const stack = await sideStack(\n` +
            `    ${JSON.stringify(shape.stack)},\n` +
            `    ${JSON.stringify({ ...dirs, workDir: path.join(work, shape.stack) })},\n` +
            `  );\n` +
            `  await setConfig(\n` +
            `    stack,\n` +
            `    {\n` +
            `      ...localShape("dev", ${JSON.stringify(image)}, ${JSON.stringify(SECRETS)}),\n` +
            `      namespace: ${JSON.stringify(shape.namespace)},\n` +
            `      ...${JSON.stringify(shape.extra)},\n` +
            `    },\n` +
            `    ${JSON.stringify(Object.keys(SECRETS))},\n` +
            `  );\n` +
            // Once more when the first up fails: that code's release state is a StackReference to
            // its own stack, which can read the checkpoint the engine is writing ("failed to load
            // checkpoint: EOF"), one of the reasons it was replaced.
            `  const up = () => stack.up({ onOutput: () => undefined });\n` +
            `  const result = await up().catch((e) => {\n` +
            `    console.error("retrying after: " + (e.message ?? e).split("\\n").slice(-3).join(" "));\n` +
            `    return up();\n` +
            `  });\n` +
            `  if (result.summary.result !== "succeeded") throw new Error(result.summary.result);\n` +
            `})().catch((e) => { console.error(e.message ?? e); process.exit(1); });\n`,
        );
        execFileSync(path.join(tree, "node_modules/.bin/ts-node"), [driver], {
          cwd: tree,
          stdio: ["ignore", "ignore", "inherit"],
        });
      }
    });

    for (const shape of SHAPES) {
      progress(`upgrade: ${shape.stack} previewed by today's code`);
      const stack = await sideStack(shape.stack, { ...dirs, workDir: path.join(work, shape.stack) });
      // What an upgrade asks of these stacks (README, Upgrading): API tokens come, since both apps
      // now refuse to start without them, and `replicas` goes, since the HPA owns the count. The
      // CLI names the missing key first (Pulumi.yaml declares it without a default), then the
      // program the one it refuses; nothing is created until both are done.
      await assert.rejects(
        stack.preview({ onOutput: () => undefined }),
        /Stack 'e2eupgrade\w+' is missing configuration value 'apiTokens'/,
      );
      await setConfig(stack, { apiTokens: API_TOKENS }, ["apiTokens"]);
      await assert.rejects(stack.preview({ onOutput: () => undefined }), /Run `pulumi config rm replicas`/);
      await stack.removeConfig("api-stack:replicas");
      const steps: Array<{ op: string; type: string; urn: string }> = [];
      await stack.preview({
        onOutput: () => undefined,
        onEvent: (event: EngineEvent) => {
          const meta = event.resourcePreEvent?.metadata;
          if (meta) {
            steps.push({ op: meta.op, type: meta.type, urn: meta.urn });
          }
        },
      });
      const unexpected = steps.filter(
        (step) =>
          !["same", "update", "create", "read", "refresh"].includes(step.op) && !replacedByDesign(step.type, step.urn),
      );
      assert.deepEqual(unexpected, [], `${shape.stack}: objects the upgrade would delete or replace`);
      const counts = steps.reduce<Record<string, number>>(
        (all, step) => ({ ...all, [step.op]: (all[step.op] ?? 0) + 1 }),
        {},
      );
      progress(`upgrade: ${shape.stack}: ${JSON.stringify(counts)}`);
      assert.ok((counts.same ?? 0) + (counts.update ?? 0) >= 10, "the live objects were kept");
    }
  });
});
