// A fleet on the real engine: one stack whose program (bench/fleet-program.ts) holds N APIs, each a
// full ApiStack of the dev shape in its own namespace with its own blue-green release (its worker,
// its migration Job on a database of its own, NetworkPolicies, monitoring, HPA, Ingress). For each
// N: `pulumi up` (create), `up` with no change, `preview` with no change, and `kubectl apply
// --server-side --dry-run=server` of the same objects rendered to manifests (bench/engine.ts's
// measure, for a fleet). On the simulated (kwok) node for every N, where pods are Ready at once,
// and on the real node for the small ones, where every pod pulls, starts and passes its probes
// against a Postgres and a Redis in namespace benchfleet-databases (tools/databases.ts).
// Everything it makes is destroyed, whatever fails. Figures, not assertions: one markdown table,
// each figure with its growth against the smallest N; then, for the largest fleet on the simulated
// node, where a no-change preview's time goes (previewBreakdown). Run through bench/fleet.sh.
//   BENCH_FLEET_SIZES       fleet sizes on the simulated node (default 1,5,10,20)
//   BENCH_FLEET_REAL_SIZES  those also run on the real node (default 1,5; empty: none)
//   BENCH_FLEET_BREAKDOWN   0: no breakdown
//   BENCH_ROUNDS            rounds of each no-change figure, the median is kept (default 3)
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Stack } from "@pulumi/pulumi/automation";
import { destroyStack, LOCAL_POD_CIDR, localShape, type ConfigValues } from "../tools/automation";
import { benchStack, benchStacks, kubectlOf, median, serverDryRun, timed } from "../tools/bench";
import { onSimulatedNode } from "../tools/simulated-node";
import { externalDatabaseUrls, startExternalDatabases } from "../tools/databases";
import { requireFresh } from "../tools/program";
import { progress } from "../tests/support/progress";
import { baseRelease } from "../tests/support/releases";
import type { FleetMember, fleetProgram } from "./fleet-program";

const sizes = (value: string) =>
  value
    .split(",")
    .filter((size) => size.trim() !== "")
    .map(Number);
const SIZES = sizes(process.env.BENCH_FLEET_SIZES ?? "1,5,10,20");
const REAL_SIZES = sizes(process.env.BENCH_FLEET_REAL_SIZES ?? "1,5").filter((size) => SIZES.includes(size));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BREAKDOWN = process.env.BENCH_FLEET_BREAKDOWN !== "0";
const KUBECONFIG = process.env.KUBECONFIG!;
const STACKS = benchStacks("fleet");
const DATABASES = "benchfleet-databases";
const DATABASE_PASSWORD = "bench-fleet-postgres-pw";
const SECRETS = {
  secretKey: "bench-secret-key-0123456789abcdef0123456789abcdef0123456",
  // Both apps refuse to start without one (API_TOKENS); nothing here calls /notes.
  apiTokens: "bench-api-token-0123456789abcdef0123456789",
  ...externalDatabaseUrls(DATABASES, DATABASE_PASSWORD),
};
const FLEET_PROGRAM = path.join(__dirname, "fleet-program.ts");
const quiet = { onOutput: () => undefined };
const kubectl = kubectlOf(KUBECONFIG);

/** Every API's stack config: the dev shape, blue-green, on the external Postgres and Redis. */
function fleetConfig(): ConfigValues {
  const { devServicesEnabled: _dev, devPostgresPassword: _password, ...dev } = localShape("dev", baseRelease(), {});
  return {
    ...dev,
    ...SECRETS,
    strategy: "blueGreen",
    networkEgress: [{ cidr: LOCAL_POD_CIDR, ports: [5432, 6379] }],
    // Five APIs, their workers and migration Jobs beside the add-ons (and whatever else runs) on
    // the one 2-core node: requests that fit, limits as dev's.
    cpuRequest: "10m",
    releaseTimeoutSeconds: 600,
  };
}

interface Figures {
  node: string;
  apis: number;
  resources: number;
  create: number;
  upNoChange: number;
  preview: number;
  dryRun: number;
  /** The machine's 1-minute load average when the size's measurements ended. */
  load: number;
  /** previewBreakdown's table. */
  breakdown?: string;
}

/** One fleet of `size` APIs, its figures on whichever node takes its pods (`tag`: sim or real). */
async function measure(node: string, tag: string, size: number, breakdown?: typeof previewBreakdown): Promise<Figures> {
  const name = `benchfleet${tag}${size}`;
  const members: FleetMember[] = Array.from({ length: size }, (_, i) => ({
    appName: `api${i + 1}`,
    namespace: `benchfleet-${tag}${size}-api${i + 1}`,
    host: `api${i + 1}.${name}.localhost`,
    database: `${name}_api${i + 1}`,
  }));
  if (tag === "real") {
    for (const { database } of members) {
      kubectl(
        "exec",
        ...["-n", DATABASES, "postgres", "--", "env", `PGPASSWORD=${DATABASE_PASSWORD}`],
        ...["createdb", "-h", "127.0.0.1", "-U", "app", database],
      );
    }
  }
  // Loaded anew for every run, as index.ts is for the engine benchmark (tools/program.ts).
  const moduleLoads: number[] = [];
  const program = () => {
    const start = performance.now();
    const loaded = requireFresh<{ fleetProgram: typeof fleetProgram }>(FLEET_PROGRAM);
    moduleLoads.push(performance.now() - start);
    return loaded.fleetProgram(members);
  };
  const secretKeys = Object.keys(SECRETS);
  const stack = await benchStack(STACKS, name, fleetConfig(), secretKeys, program);
  const manifests = path.join(STACKS.runDir, `${name}-rendered`);
  const render = await benchStack(
    STACKS,
    `${name}render`,
    { ...fleetConfig(), renderYamlTo: manifests },
    secretKeys,
    program,
  );
  try {
    progress(`${node}, ${size} APIs: pulumi up (create)`);
    const create = await timed(() => stack.up(quiet));
    const state = (await stack.exportStack()).deployment as { resources: unknown[] };
    const resources = state.resources.length;
    await render.up(quiet);
    progress(`${node}, ${size} APIs: no-change up, preview and kubectl dry run, ${ROUNDS} rounds each`);
    const upNoChange = await median(ROUNDS, () => stack.up(quiet));
    const preview = await median(ROUNDS, () => stack.preview(quiet));
    const dryRun = await median(ROUNDS, () => serverDryRun(KUBECONFIG, manifests));
    const load = os.loadavg()[0];
    const where = await breakdown?.(size, stack, manifests, moduleLoads);
    const s = (ms: number) => (ms / 1000).toFixed(1);
    progress(
      `${node}, ${size} APIs, ${resources} resources: create ${s(create)} s, no-change up ${s(upNoChange)} s, ` +
        `preview ${s(preview)} s, dry run ${s(dryRun)} s, load ${load.toFixed(1)}`,
    );
    if (where) {
      progress(where);
    }
    return { node, apis: size, resources, create, upNoChange, preview, dryRun, load, breakdown: where };
  } finally {
    progress(`${node}, ${size} APIs: pulumi destroy`);
    await destroy(
      stack,
      members.map((member) => member.namespace),
    );
  }
}

/**
 * `pulumi destroy` (again when the provider crashed, destroyStack); should that fail too, the
 * fleet's namespaces take what still stands with them, so that the next size starts clean.
 */
async function destroy(stack: Stack, namespaces: string[]): Promise<void> {
  try {
    await destroyStack(stack, progress);
  } catch (error) {
    progress(`pulumi destroy failed: ${String(error).split("\n")[0]}; deleting namespaces ${namespaces.join(", ")}`);
    kubectl("delete", "namespace", "--ignore-not-found", ...namespaces);
  }
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));

/** CPU seconds used by this process (the program, the SDK) and by the children it has waited for
 * (the CLI with the provider plugin it waited for; kubectl). */
function cpu(): { self: number; children: number } {
  const { user, system } = process.cpuUsage();
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return { self: (user + system) / 1e6, children: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS };
}

/** Wall ms (median) and CPU s per round (mean) of `rounds` runs of `run`. */
async function profiled(run: () => unknown) {
  const before = cpu();
  const wall = await median(ROUNDS, run);
  const after = cpu();
  return { wall, self: (after.self - before.self) / ROUNDS, children: (after.children - before.children) / ROUNDS };
}

/** A PULUMI_HOME beside the real one, with its CLI and plugins, where the CLI cannot keep its logs. */
function homeWithoutLogs(): string | undefined {
  const real = process.env.PULUMI_HOME;
  if (!real) {
    return undefined;
  }
  const home = path.join(STACKS.runDir, "pulumi-home-without-logs");
  fs.mkdirSync(path.join(home, "workspaces"), { recursive: true });
  for (const entry of ["plugins", "versions"]) {
    fs.symlinkSync(path.join(real, entry), path.join(home, entry));
  }
  // CLI 3.259.0 writes a debug log of every command to PULUMI_HOME/logs and has no switch for
  // it; a file where that directory would be leaves it without one (only for this measurement).
  fs.writeFileSync(path.join(home, "logs"), "");
  return home;
}

/** The program's start in a fresh process, as the CLI's language host starts it (ts-node). */
function freshStart(transpileOnly: boolean): { wall: number; cpu: number } {
  const before = cpu().children;
  const start = performance.now();
  execFileSync(process.execPath, ["-r", "ts-node/register", "-e", `require(${JSON.stringify(FLEET_PROGRAM)})`], {
    cwd: path.dirname(__dirname),
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: transpileOnly ? "true" : "false" },
    stdio: "inherit",
  });
  return { wall: performance.now() - start, cpu: cpu().children - before };
}

/**
 * Where a no-change preview of the fleet spends its time: wall and CPU of the preview as shipped,
 * then with what the program does not decide taken away one at a time (the Go garbage collector
 * of the CLI and the provider given more room; the CLI's own debug log; the stack traces the
 * SDK takes of every promise, which ts-node's source-map support maps to TypeScript), beside the
 * dry run's; and the program's own start, inline (fresh modules, per preview) and in a fresh
 * process as the CLI runs it, type-checked or transpile-only. Printed as a second table.
 */
async function previewBreakdown(size: number, stack: Stack, manifests: string, moduleLoads: number[]): Promise<string> {
  progress(`breakdown of a no-change preview, ${ROUNDS} rounds each`);
  const rows: string[] = [];
  const row = (name: string, f: { wall: number; self: number; children: number }, dryRun: number) =>
    rows.push(
      `| ${name} | ${(f.wall / 1000).toFixed(1)} | ${f.self.toFixed(1)} | ${f.children.toFixed(1)} ` +
        `| ${(f.wall / dryRun).toFixed(1)}x |`,
    );
  const dryRun = await profiled(() => serverDryRun(KUBECONFIG, manifests));
  const preview = () => stack.preview(quiet);
  const loadsBefore = moduleLoads.length;
  row("as shipped", await profiled(preview), dryRun.wall);
  const moduleLoad = moduleLoads.slice(loadsBefore).reduce((a, b) => a + b, 0) / ROUNDS;
  const realHome = process.env.PULUMI_HOME;
  const prepareStackTrace = Object.getOwnPropertyDescriptor(Error, "prepareStackTrace");
  try {
    process.env.GOGC = "400";
    row("GOGC=400 (CLI and provider)", await profiled(preview), dryRun.wall);
    const home = homeWithoutLogs();
    if (home) {
      process.env.PULUMI_HOME = home;
      row("and without the CLI's automatic log", await profiled(preview), dryRun.wall);
    }
    // Plain V8 stack traces, as a program compiled to JavaScript and run by node would take.
    Reflect.deleteProperty(Error, "prepareStackTrace");
    row("and without source-mapped stack traces", await profiled(preview), dryRun.wall);
  } finally {
    if (prepareStackTrace) {
      Object.defineProperty(Error, "prepareStackTrace", prepareStackTrace);
    }
    delete process.env.GOGC;
    process.env.PULUMI_HOME = realHome;
  }
  const typeChecked = freshStart(false);
  const transpiled = freshStart(true);
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return [
    `where a no-change preview of ${size} APIs goes (simulated node; ` +
      `median wall of ${ROUNDS} rounds, CPU per round)\n`,
    "| preview | s | CPU s, the program's process (program, SDK) | CPU s, CLI and provider " + "| preview / dry-run |",
    "|---|---:|---:|---:|---:|",
    ...rows,
    `| kubectl server dry-run | ${s(dryRun.wall)} | | ${dryRun.children.toFixed(1)} ` +
      "(kubectl; the API server's not counted) | |",
    "",
    `the program's start: inline, modules loaded anew for each preview, ${moduleLoad.toFixed(0)} ms; ` +
      `in a fresh process, as the CLI runs it, type-checked by ts-node ${s(typeChecked.wall)} s ` +
      `(${typeChecked.cpu.toFixed(1)} s CPU), transpile-only ${s(transpiled.wall)} s ` +
      `(${transpiled.cpu.toFixed(1)} s CPU)`,
  ].join("\n");
}

function table(rows: Figures[]): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const lines = [
    "| node | APIs | resources | up (create) s | up (no change) s | preview (no change) s " +
      "| kubectl server dry-run s | preview / dry-run | load (1 min) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    // Growth against the smallest fleet measured on the same node.
    const base = rows.find((other) => other.node === row.node)!;
    const grown = (key: "create" | "upNoChange" | "preview" | "dryRun") =>
      row === base ? s(row[key]) : `${s(row[key])} (${(row[key] / base[key]).toFixed(1)}x)`;
    const cells = [row.node, row.apis, row.resources, grown("create"), grown("upNoChange"), grown("preview")];
    cells.push(grown("dryRun"), `${(row.preview / row.dryRun).toFixed(1)}x`, row.load.toFixed(1));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

async function main() {
  const rows: Figures[] = [];
  try {
    const largestSize = Math.max(...SIZES);
    await onSimulatedNode(KUBECONFIG, "benchfleet-sim", async () => {
      for (const size of SIZES) {
        const breakdown = BREAKDOWN && size === largestSize ? previewBreakdown : undefined;
        rows.push(await measure("simulated node", "sim", size, breakdown));
      }
    });
    if (REAL_SIZES.length > 0) {
      progress(`Postgres and Redis in ${DATABASES}`);
      startExternalDatabases(KUBECONFIG, DATABASES, DATABASE_PASSWORD);
      for (const size of REAL_SIZES) {
        rows.push(await measure("real node", "real", size));
      }
    }
  } finally {
    execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, "delete", "namespace", "--ignore-not-found", DATABASES], {
      stdio: "inherit",
    });
    fs.rmSync(STACKS.runDir, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  console.log(`\nfleet of N blue-green APIs in one stack, ${date}; median of ${ROUNDS} rounds (create: one);`);
  console.log(`Pulumi CLI 3.259.0, local cluster, ${os.cpus().length} CPUs; growth (x) against the smallest N\n`);
  console.log(table(rows));
  const [largest] = rows.filter((row) => row.node === "simulated node").slice(-1);
  if (largest) {
    const ratio = (largest.preview / largest.dryRun).toFixed(1);
    console.log(`\npreview / dry-run at N = ${largest.apis} on the simulated node: ${ratio}x`);
  }
  for (const row of rows.filter((row) => row.breakdown)) {
    console.log(`\n${row.breakdown}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
