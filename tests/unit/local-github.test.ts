// The local runner's stand-ins for third-party actions (testbed/github/actions): every action the
// workflows pin has one, at exactly its pin, and each stand-in is a valid composite action. The
// workflows run with them end to end in tests/e2e/delivery-path.test.ts.
import { validateAction } from "@action-validator/core";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { standIns } from "../../tools/local-github";
import { PROJECT_DIR } from "../../tools/program";

/** Every `uses: owner/repo[/path]@sha` in the workflows and the project's own actions. */
function pinnedActions(): Set<string> {
  const files = ["workflows", "actions"].flatMap((room) =>
    fs
      .readdirSync(path.join(PROJECT_DIR, ".github", room), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".yml"))
      .map((file) => path.join(PROJECT_DIR, ".github", room, file)),
  );
  const pins = new Set<string>();
  for (const file of files) {
    for (const [, repository, sha] of fs
      .readFileSync(file, "utf8")
      .matchAll(/uses:\s*([\w.-]+\/[\w.-]+)(?:\/[\w./-]+)?@([0-9a-f]{40})/g)) {
      pins.add(`${repository}@${sha}`);
    }
  }
  return pins;
}

describe("local stand-ins for the workflows' third-party actions", () => {
  it("stand in for every action the workflows pin, at exactly that pin, and for nothing else", () => {
    assert.deepEqual(
      [...pinnedActions()].sort(),
      standIns()
        .map((s) => s.action)
        .sort(),
    );
  });

  it("are composite actions that validate against the action schema, one per row", () => {
    const root = path.join(PROJECT_DIR, "testbed/github/actions");
    const files = fs
      .readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith("action.yml"))
      .sort();
    // A row names an action with its path in the repository (actions/cache/restore), as pinned.
    const rows = [
      ...fs.readFileSync(path.join(root, "README.md"), "utf8").matchAll(/^\| `([\w./-]+)@[0-9a-f]{40}` \|/gm),
    ];
    assert.deepEqual(
      files.map((file) => path.dirname(file)),
      rows.map(([, action]) => action).sort(),
      "one folder per row, one row per folder",
    );
    for (const file of files) {
      const text = fs.readFileSync(path.join(root, file), "utf8");
      assert.deepEqual(validateAction(text).errors, [], file);
      assert.match(text, /^# Stand-in for /, `${file} says what it stands in for`);
      assert.match(text, /using: composite/, file);
    }
    for (const { dir } of standIns()) {
      assert.ok(fs.existsSync(dir), dir);
    }
  });
});
