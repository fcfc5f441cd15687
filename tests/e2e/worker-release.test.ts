// The Celery worker inside the release, on the real node: a blue-green API with its worker, where
// the worker must run the image that serves users at every step. A release waiting in preview
// leaves it on the active image, the promotion moves it, an aborted release never reaches it and
// a rollback takes it back. Across each step notes are written through the ingress, and every one
// of them gets its word count from whichever worker took the task.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { localShape, type ConfigValues } from "../../tools/automation";
import {
  destroyStack,
  eventually,
  kubectl,
  kubectlJson,
  newStack,
  progress,
  releaseId,
  upRelease,
  viaIngress,
} from "./env";
import { buildReleases } from "../support/releases";

const NAMESPACE = "api-e2eworker";
const HOST = "worker.e2e.localhost";
const API_TOKEN = "e2e-worker-api-token-0123456789abcdef0123";
const SECRETS = {
  secretKey: "e2e-worker-secret-key-0123456789abcdef0123456789abcdef",
  devPostgresPassword: "e2e-postgres-password",
  apiTokens: API_TOKEN,
};

/** The images the worker's pods run, once no pod of another image is left (a replaced one drains its tasks first). */
function workerImages(): Promise<string[]> {
  return eventually("the worker's pods to run one image", 240, () => {
    const pods = kubectlJson("get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=worker").items;
    const images = [...new Set<string>(pods.map((pod: any) => pod.spec.containers[0].image))];
    const ready = pods.every((pod: any) => pod.status.containerStatuses?.[0]?.ready === true);
    return images.length === 1 && ready ? images : undefined;
  });
}

/** Creates a note through the ingress and returns its id. */
async function createNote(title: string): Promise<number> {
  const created = await viaIngress(HOST, "/notes", { json: { title, body: "one two three" }, token: API_TOKEN });
  assert.equal(created.status, 201, created.body);
  return (JSON.parse(created.body) as { id: number }).id;
}

/** Waits until every note has its word count: the title's words and the body's three. */
async function counted(ids: number[]): Promise<void> {
  for (const id of ids) {
    const words = await eventually(`the word count of note ${id}`, 120, async () => {
      const note = JSON.parse((await viaIngress(HOST, `/notes/${id}`, { token: API_TOKEN })).body);
      return note.word_count ?? undefined;
    });
    assert.equal(words, 5, `note ${id}`);
  }
}

/**
 * Runs `step` (an update) with notes written through it: one right before, and one every two
 * seconds while it runs, so tasks are queued while the worker's pods are replaced.
 */
async function acrossTheSwitch<T>(name: string, step: () => Promise<T>): Promise<{ result: T; notes: number[] }> {
  const notes = [await createNote(`before ${name}`)];
  let running = true;
  const writer = (async () => {
    while (running) {
      notes.push(await createNote(`during ${name}`));
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  })();
  try {
    return { result: await step(), notes };
  } finally {
    running = false;
    await writer;
  }
}

describe("the worker runs the release that serves users (real node)", function () {
  this.timeout(30 * 60_000);
  let stack: Stack;
  let v1: string, v2: string, v3: string;
  const values = (image: string): ConfigValues => ({
    ...localShape("dev", image, SECRETS),
    namespace: NAMESPACE,
    ingressHost: HOST,
    strategy: "blueGreen",
    hpaEnabled: false,
    replicas: 1,
    rateLimitPerMinute: 100_000,
  });

  before(async () => {
    [v1, v2, v3] = buildReleases(3);
    stack = await newStack("e2eworker", values(v1), Object.keys(SECRETS));
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("the first release: the worker runs it", async () => {
    progress("worker: first release");
    const release = await upRelease(stack);
    assert.equal(release.active, v1);
    assert.deepEqual(await workerImages(), [v1]);
  });

  it("a release waiting in preview leaves the worker on the active image", async () => {
    progress("worker: a release waits in preview");
    const { result: release, notes } = await acrossTheSwitch("preview", () => upRelease(stack, { imageRef: v2 }));
    assert.deepEqual([release.active, release.preview], [v1, v2]);
    assert.deepEqual(await workerImages(), [v1]);
    await counted(notes);
  });

  it("the promotion moves the worker to the new image, and no task queued across it is lost", async () => {
    progress("worker: promotion");
    const { result: release, notes } = await acrossTheSwitch("promotion", () =>
      upRelease(stack, { promote: releaseId(v2) }),
    );
    assert.equal(release.active, v2);
    assert.deepEqual(await workerImages(), [v2]);
    progress(`worker: ${notes.length} notes written across the promotion`);
    await counted(notes);
  });

  it("an aborted release never reaches the worker, which runs the active image", async () => {
    progress("worker: a release aborted in preview");
    const preview = await upRelease(stack, { imageRef: v3 });
    assert.deepEqual([preview.active, preview.preview], [v2, v3]);
    assert.deepEqual(await workerImages(), [v2]);
    // An operator's abort (`kubectl argo rollouts abort`), which writes status.abort.
    kubectl(
      "patch",
      "rollout",
      "api",
      "-n",
      NAMESPACE,
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"abort":true}}',
    );
    const { notes } = await acrossTheSwitch("abort", () =>
      assert.rejects(stack.up({ onOutput: () => undefined }), /aborted release/),
    );
    assert.equal((await stack.outputs()).release.value.active, v2);
    assert.deepEqual(await workerImages(), [v2]);
    await counted(notes);
  });

  it("a rollback takes the worker back with the API", async () => {
    progress("worker: rollback");
    const { result: release, notes } = await acrossTheSwitch("rollback", () => upRelease(stack, { rollbackTo: v1 }));
    assert.equal(release.active, v1);
    assert.deepEqual(await workerImages(), [v1]);
    await counted(notes);
  });
});
