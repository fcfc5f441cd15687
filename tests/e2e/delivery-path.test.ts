// The delivery path as users walk it, through the workflows themselves: act runs
// .github/workflows on this machine (tools/local-github) against a local origin, the local
// cluster's real node and the loopback registry. A pull request gets its checks and its preview;
// a merge builds, scans and signs the image once and releases it to dev, then prod, where the
// blue-green release waits; promote.yml promotes it and rolls it back; what must be refused is
// refused before the cluster changes; and a migration that fails stops the release in dev.
// Stand-ins, all named in docs/github().md: the stand-in actions (testbed/github/actions), the REST
// API stand-in, the local file backend with a passphrase per stack, signing with a key pair.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { dump, load } from "js-yaml";
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { localEnvironment } from "../../tools/automation";
import { docker, push } from "../../tools/images";
import type { RunResult } from "../../tools/local-github";
import {
  appChange,
  IMAGE_REPOSITORY,
  NAMESPACES,
  projectGithub,
  type Environment,
  type ProjectGithub,
} from "../../tools/local-github/project";
import { PROJECT_DIR } from "../../tools/program";
import { eventually, KUBECONFIG, kubectl, kubectlJson, progress, releaseId } from "./env";

const jobResults = (run: RunResult) =>
  run.jobs.map((j) => `${j.job}${Object.keys(j.matrix).length ? JSON.stringify(j.matrix) : ""}: ${j.result}`);

function assertSucceeded(run: RunResult, what: string): void {
  assert.equal(
    run.status,
    0,
    `${what} failed (${jobResults(run).join(", ")}); log: ${run.logFile}\n${run.log.slice(-6000)}`,
  );
}

describe("the delivery path, through the workflows on a real runner", function () {
  this.timeout(60 * 60 * 1000);
  let path_: ProjectGithub;
  const github = () => path_.github;
  const history = (environment: Environment) => path_.history(environment);
  const release = (environment: Environment) => path_.release(environment);
  /** The digest-pinned image each API pod of an environment runs. */
  const imagesServing = (environment: Environment) =>
    kubectlJson<{ items: { status: { containerStatuses?: { imageID: string }[] } }[] }>(
      "get",
      "pods",
      "-n",
      NAMESPACES[environment],
      "-l",
      "app.kubernetes.io/component=api",
    ).items.flatMap((pod) => (pod.status.containerStatuses ?? []).map((c) => c.imageID.replace(/^.*@/, "")));
  const deploy = async (before: string, after: string) => {
    progress(`deploy.yml on main ${after.slice(0, 12)}`);
    return github().run("deploy.yml", "push", github().pushEvent(before, after), after);
  };
  let v1 = "";
  let v2 = "";
  let v3 = "";

  before(async () => {
    path_ = await projectGithub(
      fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-delivery-")),
      KUBECONFIG,
      "working-tree",
    );
  });

  after(() => path_?.close());

  it("main's first release: built once, signed, to dev then prod, each recorded with its commit", async () => {
    const main = github().main();
    const run = await deploy("0".repeat(40), main);
    assertSucceeded(run, "the first deploy");
    v1 = (await release("prod")).active!;
    assert.match(v1, new RegExp(`^${IMAGE_REPOSITORY.replace(/[.]/g, "\\.")}@sha256:[a-f0-9]{64}$`));
    assert.equal((await release("dev")).active, v1, "dev runs the same digest");
    assert.deepEqual(
      github()
        .api.deployments.filter((d) => d.task === "api-stack-release")
        .map((d) => [d.environment, d.sha, d.statuses.at(-1)!.state]),
      [
        ["dev", main, "success"],
        ["prod", main, "success"],
      ],
    );
  });

  it("a. a pull request: image built, migrations checked, preview posted; no write, no prod secret", async () => {
    github().commit("release-2", "The notes API, release 2", appChange("2"));
    const refs = github().pullRequest(1, "release-2");
    const event = github().pullRequestEvent(1, "release-2", refs);
    const prodSecrets = { ...github().secretsOf("prod"), ...github().secretsOf("prod-preview") };
    // The jobs the release relies on; `npm run ci:local -- pull-request` runs every job of ci.yml.
    for (const job of ["image", "migrations", "scan"]) {
      progress(`ci.yml ${job} on pull request 1`);
      assertSucceeded(await github().run("ci.yml", "pull_request", event, refs.merge, { job }), `ci.yml ${job}`);
    }
    progress("preview.yml on pull request 1");
    const preview = await github().run("preview.yml", "pull_request", event, refs.merge, {
      watchSecrets: { ...prodSecrets, devPassphrase: github().passphrase("dev") },
    });
    assertSucceeded(preview, "preview.yml");
    // Observed in the jobs' own processes: dev's pull-request passphrase reached them, nothing of prod.
    assert.ok(preview.watched.processes > 10, `only ${preview.watched.processes} job processes were read`);
    assert.deepEqual(preview.watched.secretsSeen, ["devPassphrase"]);
    const [comment] = github().api.comments;
    assert.equal(github().api.comments.length, 1);
    assert.equal(comment.issue, 1);
    assert.match(
      comment.body,
      /^<!-- api-stack preview: dev -->\n### `pulumi preview` of `dev` \(dev\): no policy violation/,
    );
    assert.match(comment.body, /Resources:/);

    // The pull-request identity reads and dry-runs, and the API server refuses its writes.
    const kubeconfig = path.join(github().setup.dir, "pull-request.kubeconfig");
    fs.writeFileSync(kubeconfig, github().identities.kubeconfig("dev", "pull-request"), { mode: 0o600 });
    const asPullRequest = (...args: string[]) => {
      try {
        return execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", stdio: "pipe" });
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
    };
    assert.match(asPullRequest("get", "deployments", "-n", NAMESPACES.dev), /NAME|api/);
    assert.match(
      asPullRequest("create", "configmap", "pr-write", "-n", NAMESPACES.dev, "--dry-run=server"),
      /created \(server dry run\)/,
    );
    assert.match(
      asPullRequest("create", "configmap", "pr-write", "-n", NAMESPACES.dev),
      /preview identities may only read and dry-run: this write was not a dry run/,
    );
    assert.match(
      asPullRequest("create", "configmap", "pr-write", "-n", NAMESPACES.prod, "--dry-run=server"),
      /forbidden: User "system:serviceaccount:github-identities:dev-pr" cannot create resource "configmaps"/,
    );
  });

  it("b. the merge: built, scanned, signed once; dev then prod get that digest; prod waits in preview", async () => {
    const { before, after } = github().merge("release-2");
    const run = await deploy(before, after);
    assertSucceeded(run, "deploy.yml");
    assert.deepEqual(
      run.jobs.filter((j) => ["build", "scan", "sign"].includes(j.jobId)).map((j) => `${j.jobId}: ${j.result}`),
      ["build: success", "scan: success", "sign: success"],
    );
    const prod = await release("prod");
    v2 = prod.preview!;
    assert.notEqual(v2, v1);
    assert.equal(prod.active, v1, "users stay on the release before");
    assert.equal((await release("dev")).active, v2, "dev runs the new digest");
    // Signed, with its SBOM attested, by the key the environments verify against.
    execFileSync(
      process.env.COSIGN_BINARY ?? "cosign",
      [
        "verify-attestation",
        "--key",
        localEnvironment().signer.publicKey,
        "--type",
        "spdxjson",
        "--insecure-ignore-tlog=true",
        v2,
      ],
      { stdio: "ignore" },
    );
    const records = github().api.deployments.filter((d) => d.task === "api-stack-release" && d.sha === after);
    assert.deepEqual(
      records.map((d) => [d.environment, (d.payload as { image: string }).image, d.statuses.at(-1)!.state]),
      [
        ["dev", v2, "success"],
        ["prod", v2, "success"],
      ],
    );
  });

  it("c. promote: prod's release becomes active; the same promotion again changes nothing", async () => {
    const promote = (release: string) =>
      github().run(
        "promote.yml",
        "workflow_dispatch",
        github().dispatchEvent({ environment: "prod", action: "promote", release }),
        github().main(),
      );
    progress(`promote ${releaseId(v2)}`);
    assertSucceeded(await promote(releaseId(v2)), "promote");
    const prod = await release("prod");
    assert.equal(prod.active, v2);
    assert.equal(prod.preview, undefined);
    await eventually("prod's pods on the promoted image", 120, () =>
      imagesServing("prod").every((digest) => v2.endsWith(digest)) ? true : undefined,
    );
    const updates = await history("prod");
    progress(`promote ${releaseId(v2)} again`);
    const again = await promote(releaseId(v2));
    assertSucceeded(again, "the second promotion");
    assert.match(again.log, /is already active on prod: nothing to do/);
    assert.ok(!again.jobs.some((j) => ["preview", "deploy"].includes(j.jobId)), jobResults(again).join(", "));
    assert.equal(await history("prod"), updates, "no update ran");
  });

  it("drift: none after a promotion and a scale-out; an edited target port, named in its issue", async () => {
    const updates = { dev: await history("dev"), prod: await history("prod") };
    // The replica counts changed as the HPA changes them, through the scale subresource (a
    // stand-in for load: tests/e2e/autoscaling.test.ts has the HPA itself scaling).
    for (const [environment, kind] of [
      ["dev", "deployment"],
      ["prod", "rollout"],
    ] as const) {
      const replicas = Number(
        kubectl("get", kind, "api", "-n", NAMESPACES[environment], "-o", "jsonpath={.spec.replicas}"),
      );
      kubectl("scale", kind, "api", "-n", NAMESPACES[environment], `--replicas=${replicas + 1}`);
    }
    // An operator's edit of a field the program sets: dev's Service is the program's (prod's are
    // Argo's to switch, so the program leaves their spec alone). The target port, not the port:
    // the port keys the list, so the preview's server-side apply would add a second port
    // beside the edited one, which the API server refuses, and no diff is shown.
    const field = "/spec/ports/0/targetPort";
    const before = kubectlJson<{ spec: { ports: { targetPort: string | number }[] } }>(
      "get",
      "service",
      "api",
      "-n",
      NAMESPACES.dev,
    ).spec.ports[0].targetPort;
    const patch = (value: string | number) =>
      kubectl(
        "patch",
        "service",
        "api",
        "-n",
        NAMESPACES.dev,
        "--type=json",
        "-p",
        JSON.stringify([{ op: "replace", path: field, value }]),
      );
    patch(8081);
    try {
      progress("drift.yml on its schedule");
      const workflow = fs.readFileSync(path.join(PROJECT_DIR, ".github/workflows/drift.yml"), "utf8");
      const { on } = load(workflow) as { on: { schedule: { cron: string }[] } };
      const run = await github().run(
        "drift.yml",
        "schedule",
        github().scheduleEvent(on.schedule[0].cron),
        github().main(),
      );
      assertSucceeded(run, "drift.yml");
      assert.match(run.log, /prod: no drift/);
      assert.match(run.log, /dev drifts: issue \d+ opened/);
      assert.equal(github().api.issues.length, 1);
      const [issue] = github().api.issues;
      assert.deepEqual([issue.title, issue.state, issue.labels], ["Drift in dev", "open", ["drift"]]);
      assert.match(issue.body, /~ kubernetes:core\/v1:Service: \(update\)/);
      assert.match(issue.body, new RegExp(`targetPort\\s*:\\s*8081\\s*=>\\s*"?${before}"?`));
      // The field, as the preview's server-side dry run names it: the manager that took it over
      // conflicts with the program's. The replicas the scale-out changed are not the program's.
      assert.match(issue.body, /conflict with "kubectl-patch".*\.spec\.ports\[port=80,protocol="TCP"\]\.targetPort/);
      assert.doesNotMatch(issue.body, /\.spec\.replicas/, "the scale-out is not drift");
    } finally {
      patch(before);
    }
    assert.deepEqual(
      updates,
      { dev: await history("dev"), prod: await history("prod") },
      "a drift check updates nothing",
    );
  });

  it("d. rollback: the earlier image serves again; the next merge deploys main's image again", async () => {
    progress(`rollback to ${v1}`);
    const rollback = await github().run(
      "promote.yml",
      "workflow_dispatch",
      github().dispatchEvent({ environment: "prod", action: "rollback", release: v1 }),
      github().main(),
    );
    assertSucceeded(rollback, "rollback");
    assert.equal((await release("prod")).active, v1);
    github().commit("release-3", "The notes API, release 3", appChange("3"));
    const { before, after } = github().merge("release-3");
    assertSucceeded(await deploy(before, after), "the deploy after the rollback");
    const prod = await release("prod");
    v3 = prod.preview!;
    assert.ok(v3 && v3 !== v1 && v3 !== v2, `prod waits with main's new image, got ${JSON.stringify(prod)}`);
    assert.equal(prod.active, v1, "the rolled-back release serves until the new one is promoted");
    assert.equal((await release("dev")).active, v3);
  });

  describe("e. refused before any change to the cluster, saying why", () => {
    let rollout = "";
    let updates = 0;
    beforeEach(async () => {
      rollout = kubectl("get", "rollout", "api", "-n", NAMESPACES.prod, "-o", "jsonpath={.metadata.generation}");
      updates = await history("prod");
    });
    afterEach(async () => {
      assert.equal(
        kubectl("get", "rollout", "api", "-n", NAMESPACES.prod, "-o", "jsonpath={.metadata.generation}"),
        rollout,
      );
      assert.equal(await history("prod"), updates, "prod's stack ran no update");
    });
    const dispatch = (inputs: Record<string, string>) =>
      github().run("promote.yml", "workflow_dispatch", github().dispatchEvent(inputs), github().main());

    it("a release id that is not waiting", async () => {
      const run = await dispatch({ environment: "prod", action: "promote", release: "0123456789ab" });
      assert.notEqual(run.status, 0);
      assert.match(
        run.log,
        /release 0123456789ab is not waiting in preview on prod \(waiting: [a-f0-9]{12}; active: [a-f0-9]{12}\)/,
      );
    });

    it("an unsigned rollback image", async () => {
      const unsigned = `${IMAGE_REPOSITORY}:unsigned`;
      docker("tag", process.env.API_STACK_BASE_IMAGE!, unsigned);
      const image = push(unsigned);
      const run = await dispatch({ environment: "prod", action: "rollback", release: image });
      assert.notEqual(run.status, 0);
      assert.match(
        run.log,
        new RegExp(`${image.replace(/[.]/g, "\\.")} is not signed by the release workflow: nothing is deployed`),
      );
    });

    it("a recorded commit that is not on main", async () => {
      // An update from a laptop, of a branch nobody reviewed (its stack file names the image, so
      // the tree is clean): its commit is what dev last ran.
      const stackFile = load(
        execFileSync("git", ["--git-dir", github().origin, "show", "main:Pulumi.dev.yaml"], { encoding: "utf8" }),
      ) as {
        config: Record<string, unknown>;
      };
      stackFile.config["api-stack:imageRef"] = v3;
      const commit = github().commit("experiment", "Never merged", { "Pulumi.dev.yaml": dump(stackFile) });
      const laptop = fs.mkdtempSync(path.join(os.tmpdir(), "laptop-"));
      execFileSync("git", ["clone", "-q", github().origin, laptop]);
      execFileSync("git", ["-C", laptop, "checkout", "-q", commit]);
      fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(laptop, "node_modules"));
      const dev = await LocalWorkspace.selectStack(
        { stackName: "dev", workDir: laptop },
        { envVars: { ...github().pulumiEnv("dev"), KUBECONFIG } },
      );
      await dev.up({ onOutput: () => undefined });
      const devUpdates = await history("dev");
      const run = await dispatch({ environment: "dev", action: "promote", release: releaseId(v3) });
      assert.notEqual(run.status, 0);
      assert.match(run.log, new RegExp(`ran commit ${commit}, which is not on main; only reviewed code is run again`));
      assert.equal(await history("dev"), devUpdates);
    });

    it("a pull request that changes promote.yml to enter prod", async () => {
      // What such a change comes down to: a job of the pull request in prod's environment,
      // where prod's secrets and identity are, running the stack's `up`.
      const promote = dump({
        name: "promote",
        on: { pull_request: {} },
        permissions: {},
        jobs: {
          promote: {
            "runs-on": "ubuntu-latest",
            environment: "prod",
            steps: [{ run: "npx pulumi up --yes --stack prod" }],
          },
        },
      });
      github().commit("enter-prod", "Promote from a pull request", { ".github/workflows/promote.yml": promote });
      const refs = github().pullRequest(2, "enter-prod");
      const run = await github().run(
        "promote.yml",
        "pull_request",
        github().pullRequestEvent(2, "enter-prod", refs),
        refs.merge,
      );
      assert.notEqual(run.status, 0);
      assert.match(
        run.log,
        /"refs\/pull\/2\/merge" is not allowed to deploy to prod due to environment protection rules/,
      );
      assert.doesNotMatch(run.log, /npx pulumi|Run Main/);
    });
  });

  it("f. a merge whose migration fails: the workflow names the migration, prod is untouched", async () => {
    const prodUpdates = await history("prod");
    const migration = [
      '"""A migration that fails."""',
      "from alembic import op",
      "",
      'revision: str = "0099"',
      'down_revision: str | None = "0002"',
      "branch_labels = None",
      "depends_on = None",
      "",
      "",
      "def upgrade() -> None:",
      '    op.execute("UPDATE a_table_that_does_not_exist SET x = 1")',
      "",
      "",
      "def downgrade() -> None:",
      "    pass",
      "",
    ].join("\n");
    github().commit("broken-migration", "A migration that fails", {
      ...appChange("4"),
      "apps/fastapi/migrations/versions/20991231_0099_fails.py": migration,
    });
    const { before, after } = github().merge("broken-migration");
    const run = await deploy(before, after);
    assert.notEqual(run.status, 0);
    const job = /release Job api-migration-[a-f0-9]{12}-[a-f0-9]{8} failed/.source;
    const step = /at "Running upgrade 0002 -> 0099, A migration that fails\."; the end of its log:/.source;
    assert.match(run.log, new RegExp(`${job} ${step}`));
    // The migration's own error, not one of the cleanup after it.
    assert.match(run.log, /relation "a_table_that_does_not_exist" does not exist/);
    assert.equal(await history("prod"), prodUpdates, "prod ran no update");
    assert.deepEqual(
      github()
        .api.deployments.filter((d) => d.sha === after)
        .map((d) => [d.environment, d.statuses.at(-1)!.state]),
      [["dev", "failure"]],
    );
    assert.equal((await release("prod")).preview, v3, "prod still waits with the last good release");
  });
});
