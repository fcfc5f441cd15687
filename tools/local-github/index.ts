// A local GitHub around a real Actions runner, so the workflows in .github/workflows run from
// start to finish on this machine: a bare repository as `origin` (main, pull-request branches and
// their refs/pull/N/{head,merge}); event payloads for pull_request, push and workflow_dispatch;
// the repository's variables and each environment's secrets, variables and branch policy, made by
// the GitHub project's own builders (github/spec.ts) from local values; Kubernetes identities per
// environment and purpose with real RBAC (identities.ts); a loopback stand-in for the REST API the
// workflows call (api.ts); and act, run on the host with the project's stand-ins for third-party
// actions (testbed/github/actions). docs/github.md lists what runs for real and what stands in.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  environmentSecrets,
  environmentSpecs,
  environmentVariables,
  repositoryVariables,
  type GithubRepositoryArgs,
} from "../../github/spec";
import { setConfig, type ConfigValues } from "../automation";
import { PROJECT_DIR } from "../program";
import { startGithubApi, type GithubApi } from "./api";
import { createIdentities, type Identities } from "./identities";

/** One environment of the local repository, in promotion order. */
export interface LocalEnvironment {
  name: string;
  /** The namespace its stack deploys into, and its identities act in. */
  namespace: string;
  /** Previewed on every pull request, with an identity of its own (dev). */
  pullRequestPreview?: boolean;
  /** The stack's config, committed in Pulumi.<name>.yaml (secrets encrypted there). */
  config: ConfigValues;
  secrets: Record<string, string>;
}

/** Where the runner finds what the stand-in actions and the jobs use on this machine. */
export interface RunnerTools {
  act: string;
  /** Directory of the project's Node.js (scripts/node-env). */
  nodeBin: string;
  /** Directories prepended to the jobs' PATH (kubectl, the docker CLI). */
  path: string[];
  pulumiHome: string;
  cosign: string;
  syft: string;
  osvScanner: string;
  /** An offline OSV database, as osv-scanner's --local-db-path reads it. */
  osvDatabase: string;
}

export interface LocalGithubSetup {
  /** Everything of this local GitHub lives here: origin, backend, runs, artifacts. */
  dir: string;
  /** What main starts from: this checkout's working tree, or its HEAD commit. */
  source: "working-tree" | "head";
  /** The cluster administrator's kubeconfig, which makes the identities. */
  adminKubeconfig: string;
  /** `owner/name`. */
  repository: string;
  environments: LocalEnvironment[];
  build: {
    imageRepository: string;
    /** Pinned by digest. */
    baseImage: string;
    app: string;
    /** The key pair images are signed with (no keyless signing here). */
    signer: { publicKey: string; privateKey: string; password: string };
  };
  tools: RunnerTools;
}

export interface JobResult {
  /** act's name for the job: `<workflow>/<job id>`, with the called workflow's jobs below their caller's. */
  job: string;
  jobId: string;
  matrix: Record<string, unknown>;
  result: string;
}

export interface RunResult {
  /** act's exit status: 0 when every job that ran succeeded. */
  status: number;
  jobs: JobResult[];
  /** Every log message, masked as act masks it. */
  log: string;
  /** File with act's full JSON log. */
  logFile: string;
  /** Job processes whose environment was read while they ran, and the secrets found in any of them. */
  watched: { processes: number; secretsSeen: string[] };
}

export interface RunOptions {
  /** One job only (act -j); every job of the workflow when unset. */
  job?: string;
  /** Secrets to look for in the environment of every process the jobs start, by name. */
  watchSecrets?: Record<string, string>;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=api-stack", "-c", "user.email=ci@api-stack.local", ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();

const STAND_INS = path.join(PROJECT_DIR, "testbed/github/actions");

/** This checkout's files as they are now, committed or not (ignored files left out). */
function workingTree(): string[] {
  return execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: PROJECT_DIR })
    .toString()
    .split("\0")
    .filter((file) => file !== "" && fs.existsSync(path.join(PROJECT_DIR, file)));
}

/** A file to commit: its content, and whether it runs (the scripts the workflows call do). */
export interface FileChange {
  content: string | Buffer;
  executable?: boolean;
}

/** What this checkout changes against HEAD: each changed or new file, null for a deleted one. */
export function uncommittedChanges(): Record<string, FileChange | null> {
  const changed = execFileSync("git", ["diff", "--name-only", "-z", "HEAD"], { cwd: PROJECT_DIR })
    .toString()
    .split("\0");
  const untracked = execFileSync("git", ["ls-files", "-o", "--exclude-standard", "-z"], { cwd: PROJECT_DIR })
    .toString()
    .split("\0");
  return Object.fromEntries(
    [...changed, ...untracked]
      .filter((file) => file !== "")
      .map((file) => {
        const full = path.join(PROJECT_DIR, file);
        if (!fs.existsSync(full)) {
          return [file, null];
        }
        return [file, { content: fs.readFileSync(full), executable: (fs.statSync(full).mode & 0o100) !== 0 }];
      }),
  );
}

/** The stand-ins' table (testbed/github/actions/README.md): each pinned action and its folder. */
export function standIns(): { action: string; dir: string }[] {
  const table = fs.readFileSync(path.join(STAND_INS, "README.md"), "utf8");
  const rows = [...table.matchAll(/^\| `([\w.-]+\/[\w.-]+)((?:\/[\w./-]+)?)@([0-9a-f]{40})` \|/gm)].map(
    ([, repository, , sha]) => [`${repository}@${sha}`, path.join(STAND_INS, repository)] as const,
  );
  // The sub-actions of one repository (actions/cache/restore and /save) share its folder.
  return [...new Map(rows)].map(([action, dir]) => ({ action, dir }));
}

export class LocalGithub {
  readonly origin: string;
  private readonly work: string;
  private runs = 0;

  private constructor(
    readonly setup: LocalGithubSetup,
    readonly api: GithubApi,
    readonly identities: Identities,
    /** The runs' GITHUB_TOKEN, the only one the API stand-in accepts. */
    private readonly token: string,
  ) {
    this.origin = path.join(setup.dir, "origin.git");
    this.work = path.join(setup.dir, "work");
  }

  /**
   * A fresh local repository: main holds the project's working tree (what is committed and what
   * is not, as a rehearsal of a change before it is pushed), the signing key's public half and each
   * environment's stack file, made by `pulumi stack init` and `config set` as a maintainer would.
   */
  static async create(setup: LocalGithubSetup): Promise<LocalGithub> {
    fs.mkdirSync(setup.dir, { recursive: true });
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    const identities = createIdentities(setup.adminKubeconfig, setup.environments);
    const api = await startGithubApi({ repository: setup.repository, token });
    const github = new LocalGithub(setup, api, identities, token);
    await github.init();
    return github;
  }

  private async init(): Promise<void> {
    fs.mkdirSync(path.join(this.setup.dir, "backend"), { recursive: true });
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", this.origin]);
    fs.mkdirSync(this.work, { recursive: true });
    git(this.work, "init", "-q", "-b", "main");
    if (this.setup.source === "head") {
      execFileSync("sh", ["-c", `git archive HEAD | tar -x -C '${this.work}'`], { cwd: PROJECT_DIR });
    } else {
      // Copied with their modes: the workflows run the scripts.
      for (const file of workingTree()) {
        fs.mkdirSync(path.dirname(path.join(this.work, file)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(this.work, file));
      }
    }
    fs.writeFileSync(path.join(this.work, "cosign.pub"), this.setup.build.signer.publicKey);
    for (const env of this.setup.environments) {
      fs.rmSync(path.join(this.work, `Pulumi.${env.name}.yaml`), { force: true });
      const stack = await LocalWorkspace.createStack(
        { stackName: env.name, workDir: this.work },
        { envVars: this.pulumiEnv(env.name) },
      );
      await setConfig(stack, { ...env.config, ...env.secrets }, Object.keys(env.secrets));
    }
    git(this.work, "add", "-A");
    git(this.work, "commit", "-q", "-m", "api-stack, with this platform's stack files and signing key");
    git(this.work, "remote", "add", "origin", this.origin);
    git(this.work, "push", "-q", "origin", "main");
  }

  /** The backend and passphrase of an environment's stack, as its jobs and its maintainers use them. */
  pulumiEnv(environment: string): Record<string, string> {
    return {
      PULUMI_BACKEND_URL: `file://${path.join(this.setup.dir, "backend")}`,
      PULUMI_CONFIG_PASSPHRASE: this.passphrase(environment),
      PULUMI_HOME: this.setup.tools.pulumiHome,
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
  }

  /** Each environment's own passphrase, made once: the local stand-in for a per-stack key. */
  passphrase(environment: string): string {
    const file = path.join(this.setup.dir, `passphrase-${environment}`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(this.setup.dir, { recursive: true });
      fs.writeFileSync(file, randomBytes(24).toString("hex"), { mode: 0o600 });
    }
    return fs.readFileSync(file, "utf8");
  }

  /** The GitHub project's args for this repository, with the local values. */
  githubArgs(): GithubRepositoryArgs<string> {
    const [owner, repository] = this.setup.repository.split("/");
    return {
      owner,
      repository,
      pulumi: { organization: "local", backendUrl: `file://${path.join(this.setup.dir, "backend")}` },
      build: {
        imageRepository: this.setup.build.imageRepository,
        baseImage: this.setup.build.baseImage,
        app: this.setup.build.app,
        signingKey: {
          publicKey: this.setup.build.signer.publicKey,
          privateKey: this.setup.build.signer.privateKey,
          password: this.setup.build.signer.password,
        },
      },
      environments: this.setup.environments.map((env) => ({
        name: env.name,
        url: `http://${typeof env.config.ingressHost === "string" ? env.config.ingressHost : `${env.name}.localhost`}`,
        // Locally a passphrase per stack stands in for Pulumi Cloud's or a KMS key, and no
        // environment has reviewers (GitHub's approval gate does not exist here).
        secretsProvider: { kind: "passphrase" },
        configPassphrase: this.passphrase(env.name),
        kubeconfig: this.identities.kubeconfig(env.name, "deploy"),
        previewKubeconfig: this.identities.kubeconfig(env.name, "preview"),
        pullRequestPreview: env.pullRequestPreview
          ? { kubeconfig: this.identities.kubeconfig(env.name, "pull-request") }
          : undefined,
      })),
    };
  }

  /** An environment's secrets, as its jobs receive them. */
  secretsOf(environment: string): Record<string, string> {
    return Object.fromEntries(
      environmentSecrets(this.githubArgs())
        .filter((s) => s.environment === environment)
        .map((s) => [s.name, s.value]),
    );
  }

  /** The settings file the runner's environment support reads ($ACT_ENVIRONMENTS_FILE). */
  private environmentsFile(): string {
    const args = this.githubArgs();
    const environments: Record<
      string,
      { secrets: Record<string, string>; vars: Record<string, string>; branches?: string[] }
    > = {};
    for (const spec of environmentSpecs(args)) {
      environments[spec.name] = { secrets: {}, vars: {}, ...(spec.branches ? { branches: spec.branches } : {}) };
    }
    for (const secret of environmentSecrets(args)) {
      environments[secret.environment].secrets[secret.name] = secret.value;
    }
    for (const variable of environmentVariables(args)) {
      environments[variable.environment!].vars[variable.name] = variable.value;
    }
    const vars = Object.fromEntries(repositoryVariables(args).map((v) => [v.name, v.value]));
    const file = path.join(this.setup.dir, "environments.json");
    fs.writeFileSync(file, JSON.stringify({ vars, environments }), { mode: 0o600 });
    return file;
  }

  /** Commits `changes` (path: content, or null to delete) on `branch` (from main when new) and pushes it. */
  commit(branch: string, message: string, changes: Record<string, string | FileChange | null>): string {
    git(this.work, "fetch", "-q", "origin");
    const exists = git(this.work, "ls-remote", "--heads", "origin", branch) !== "";
    git(this.work, "checkout", "-q", "-B", branch, exists ? `origin/${branch}` : "origin/main");
    for (const [file, content] of Object.entries(changes)) {
      const target = path.join(this.work, file);
      if (content === null) {
        fs.rmSync(target, { force: true });
      } else {
        const change = typeof content === "string" ? { content } : content;
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, change.content, { mode: change.executable ? 0o755 : 0o644 });
        fs.chmodSync(target, change.executable ? 0o755 : 0o644);
      }
    }
    git(this.work, "add", "-A");
    git(this.work, "commit", "-q", "--allow-empty", "-m", message);
    git(this.work, "push", "-q", "origin", branch);
    return git(this.work, "rev-parse", "HEAD");
  }

  /** refs/pull/N/head and refs/pull/N/merge for `branch` against main, as GitHub keeps them. */
  pullRequest(number: number, branch: string): { head: string; merge: string; base: string } {
    git(this.work, "fetch", "-q", "origin");
    const base = git(this.work, "rev-parse", "origin/main");
    const head = git(this.work, "rev-parse", `origin/${branch}`);
    git(this.work, "checkout", "-q", "--detach", base);
    git(this.work, "merge", "-q", "--no-ff", "-m", `Merge ${head} into ${base}`, head);
    const merge = git(this.work, "rev-parse", "HEAD");
    git(
      this.work,
      "push",
      "-q",
      "-f",
      "origin",
      `${head}:refs/pull/${number}/head`,
      `${merge}:refs/pull/${number}/merge`,
    );
    return { head, merge, base };
  }

  /** Merges the pull request's branch into main (a merge commit) and pushes main. */
  merge(branch: string): { before: string; after: string } {
    git(this.work, "fetch", "-q", "origin");
    const before = git(this.work, "rev-parse", "origin/main");
    git(this.work, "checkout", "-q", "-B", "main", "origin/main");
    git(this.work, "merge", "-q", "--no-ff", "-m", `Merge branch '${branch}'`, `origin/${branch}`);
    git(this.work, "push", "-q", "origin", "main");
    return { before, after: git(this.work, "rev-parse", "HEAD") };
  }

  /** The head of main in the origin. */
  main(): string {
    return execFileSync("git", ["--git-dir", this.origin, "rev-parse", "main"], { encoding: "utf8" }).trim();
  }

  private repositoryPayload() {
    const [owner, name] = this.setup.repository.split("/");
    return { full_name: this.setup.repository, name, owner: { login: owner }, default_branch: "main" };
  }

  pullRequestEvent(number: number, branch: string, refs: { head: string; base: string }) {
    return {
      action: "synchronize",
      number,
      pull_request: {
        number,
        head: { ref: branch, sha: refs.head, repo: { full_name: this.setup.repository } },
        base: { ref: "main", sha: refs.base, repo: { full_name: this.setup.repository } },
      },
      repository: this.repositoryPayload(),
    };
  }

  pushEvent(before: string, after: string) {
    return { ref: "refs/heads/main", before, after, repository: this.repositoryPayload() };
  }

  dispatchEvent(inputs: Record<string, string>, ref = "refs/heads/main") {
    return { ref, inputs, repository: this.repositoryPayload() };
  }

  /** What GitHub sends a scheduled run: the cron line alone, no repository. */
  scheduleEvent(cron: string) {
    return { schedule: cron };
  }

  /**
   * Runs `workflow` for `event` with act, on the host, at `commit` (the runner's copy of the
   * workflow files, as GitHub reads them from the event's commit).
   */
  async run(
    workflow: string,
    event: "pull_request" | "push" | "workflow_dispatch" | "schedule",
    payload: object,
    commit: string,
    options: RunOptions = {},
  ): Promise<RunResult> {
    const id = `${Date.now()}${++this.runs}`;
    const dir = path.join(this.setup.dir, "runs", id);
    const checkout = path.join(dir, "repository");
    execFileSync("git", ["clone", "-q", this.origin, checkout]);
    git(checkout, "fetch", "-q", "origin", "+refs/pull/*:refs/remotes/pull/*");
    git(checkout, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", commit);
    const eventFile = path.join(dir, "event.json");
    fs.writeFileSync(eventFile, JSON.stringify(payload));
    const { tools } = this.setup;
    const home = path.join(this.setup.dir, "home");
    fs.mkdirSync(home, { recursive: true });
    const jobEnv: Record<string, string> = {
      GITHUB_API_URL: this.api.url,
      GITHUB_REPOSITORY: this.setup.repository,
      GITHUB_RUN_ID: id,
      LOCAL_GITHUB_ORIGIN: this.origin,
      LOCAL_GITHUB_ARTIFACTS: path.join(this.setup.dir, "artifacts"),
      LOCAL_GITHUB_CACHE: path.join(this.setup.dir, "cache"),
      LOCAL_NODE_BIN: tools.nodeBin,
      LOCAL_OSV_DB: tools.osvDatabase,
      COSIGN_BINARY: tools.cosign,
      SYFT_BINARY: tools.syft,
      OSV_SCANNER_BINARY: tools.osvScanner,
    };
    const args = [
      event,
      "--json",
      "-W",
      path.join(checkout, ".github/workflows", workflow),
      "-e",
      eventFile,
      "-P",
      "ubuntu-latest=-self-hosted",
      "--no-skip-checkout",
      "--no-cache-server",
      "--action-offline-mode",
      "--defaultbranch",
      "main",
      "--secret-file",
      "/dev/null",
      "--var-file",
      "/dev/null",
      "-s",
      `GITHUB_TOKEN=${this.token}`,
      ...Object.entries(jobEnv).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
      ...standIns().flatMap(({ action, dir: folder }) => ["--local-repository", `${action}=${folder}`]),
      ...(options.job ? ["-j", options.job] : []),
    ];
    // act hands its own environment to every job: only what any runner would have goes in, and
    // how this machine trusts TLS to the package registries (as a runner image is configured).
    const trust = Object.fromEntries(
      ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "PIP_CERT"]
        .filter((name) => process.env[name] !== undefined)
        .map((name) => [name, process.env[name]!]),
    );
    const env = {
      ...trust,
      PATH: [...tools.path, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":"),
      HOME: home,
      npm_config_cache: path.join(process.env.HOME ?? home, ".npm"),
      PULUMI_HOME: tools.pulumiHome,
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      ACT_ENVIRONMENTS_FILE: this.environmentsFile(),
    };
    const logFile = path.join(dir, "act.log");
    const log = fs.createWriteStream(logFile);
    const child = spawn(tools.act, args, { cwd: checkout, env, stdio: ["ignore", "pipe", "pipe"] });
    const watcher = options.watchSecrets ? watchEnvironments(child.pid!, options.watchSecrets) : undefined;
    const lines: string[] = [];
    let pending = "";
    const take = (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString();
      const complete = pending.split("\n");
      pending = complete.pop()!;
      lines.push(...complete);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const status = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
    log.end();
    lines.push(pending);
    const watched = watcher?.stop() ?? { processes: 0, secretsSeen: [] };
    const entries = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return line.trim() ? [{ msg: line }] : [];
      }
    });
    return {
      status,
      jobs: entries
        .filter((e) => typeof e.jobResult === "string")
        .map((e) => ({
          job: String(e.job),
          jobId: String(e.jobID),
          matrix: (e.matrix ?? {}) as Record<string, unknown>,
          result: String(e.jobResult),
        })),
      log: entries
        .map((e) => `${typeof e.job === "string" ? `[${e.job}] ` : ""}${typeof e.msg === "string" ? e.msg : ""}`)
        .join("\n"),
      logFile,
      watched,
    };
  }

  /** Stops the API stand-in and removes the identities and the environments' namespaces. */
  async close(): Promise<void> {
    await this.api.close();
    this.identities.remove();
  }
}

/**
 * Reads, every 100 ms, the environment of every process below `root` (the runner and the jobs
 * it starts) and notes which of `secrets` appear in any of them.
 */
function watchEnvironments(root: number, secrets: Record<string, string>) {
  const seen = new Set<string>();
  const read = new Set<number>();
  const tick = () => {
    const parents = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
      if (/^\d+$/.test(entry)) {
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
          parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        } catch {
          // The process ended between the listing and the read.
        }
      }
    }
    const below = (pid: number): boolean => pid === root || (parents.has(pid) && pid !== 1 && below(parents.get(pid)!));
    for (const pid of parents.keys()) {
      if (pid === root || !below(pid)) {
        continue;
      }
      try {
        const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
        read.add(pid);
        for (const [name, value] of Object.entries(secrets)) {
          if (value !== "" && environ.includes(value)) {
            seen.add(name);
          }
        }
      } catch {
        // Gone already.
      }
    }
  };
  const timer = setInterval(tick, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return { processes: read.size, secretsSeen: [...seen].sort() };
    },
  };
}
