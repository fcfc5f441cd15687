import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { manifestForm, verifyPinnedManifest } from "./manifest";

const CONTENT = Buffer.from("apiVersion: v1\nkind: Namespace\nmetadata: {name: argo-rollouts}\n");
const SHA = createHash("sha256").update(CONTENT).digest("hex");

describe("argoRolloutsManifest forms", () => {
  it("accepts a project file, a release's URL, or any https URL pinned by digest", () => {
    assert.deepEqual(manifestForm("deploy/argo.yaml"), { kind: "path", file: "deploy/argo.yaml" });
    const release = "https://github.com/argoproj/argo-rollouts/releases/download/v1.9.3/install.yaml";
    assert.deepEqual(manifestForm(release), { kind: "release", url: release });
    assert.deepEqual(manifestForm(`https://mirror.example.com/argo/install.yaml#sha256=${SHA}`), {
      kind: "digest",
      url: "https://mirror.example.com/argo/install.yaml",
      sha256: SHA,
    });
  });

  it("refuses what can change: a branch, latest, a query, plain http, credentials in the URL", () => {
    for (const text of [
      "https://raw.githubusercontent.com/argoproj/argo-rollouts/master/manifests/install.yaml",
      "https://github.com/argoproj/argo-rollouts/releases/latest/download/install.yaml",
      "https://example.com/v1.9.3/install.yaml?ref=main",
      "http://example.com/v1.9.3/install.yaml",
      `https://user:pw@example.com/install.yaml#sha256=${SHA}`,
    ]) {
      assert.equal(manifestForm(text), undefined, text);
    }
  });
});

describe("a manifest pinned by digest", () => {
  const file = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "manifests-")), `argo-rollouts-${SHA}.yaml`);
  const url = "https://mirror.example.com/argo/install.yaml";

  it("is fetched, verified and kept, then used without fetching again", async () => {
    const pinned = { url, sha256: SHA, file: file() };
    let fetched = 0;
    const fetcher = () => {
      fetched += 1;
      return Promise.resolve(CONTENT);
    };
    assert.equal(await verifyPinnedManifest(pinned, fetcher), undefined);
    assert.deepEqual(fs.readFileSync(pinned.file), CONTENT);
    assert.equal(await verifyPinnedManifest(pinned, fetcher), undefined);
    assert.equal(fetched, 1);
  });

  it("is refused, nothing kept, when its content has another digest; a tampered copy is fetched again", async () => {
    const pinned = { url, sha256: SHA, file: file() };
    fs.writeFileSync(pinned.file, "tampered");
    const problem = await verifyPinnedManifest(pinned, () => Promise.resolve(Buffer.from("changed")));
    assert.match(String(problem), new RegExp(`has sha256 [a-f0-9]{64}, not the pinned ${SHA}`));
    assert.equal(fs.readFileSync(pinned.file, "utf8"), "tampered");
    assert.match(
      String(await verifyPinnedManifest(pinned, () => Promise.reject(new Error("GET answered 404 Not Found")))),
      /could not be fetched: GET answered 404/,
    );
  });
});
