import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { DEFAULT_BASE_IMAGE, KEYS, type KeySpec } from "./keys";
import { renderConfigReference, renderProjectFile } from "./project-file";

const root = path.resolve(__dirname, "..");

describe("project and stack files", () => {
  it("Pulumi.yaml is generated from the key table (run `npm run gen:project` after editing keys)", () => {
    assert.equal(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"), renderProjectFile());
  });

  it("docs/config.md is generated from the key table", () => {
    assert.equal(fs.readFileSync(path.join(root, "docs/config.md"), "utf8"), renderConfigReference());
  });

  for (const stack of ["dev", "prod"]) {
    it(`Pulumi.${stack}.yaml holds secrets only as secure: values and only known keys`, () => {
      const file = load(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
      };
      for (const [fullKey, value] of Object.entries(file.config)) {
        const key = fullKey.replace(/^api-stack:/, "");
        const spec = (KEYS as Record<string, KeySpec>)[key];
        assert.ok(spec, `${fullKey} is not a known key`);
        const secure = typeof value === "object" && value !== null && "secure" in value;
        assert.equal(secure, spec.secret === true, `${fullKey}: secret keys must be secure: values, others plain`);
      }
    });
  }

  it("Pulumi.prod.yaml is not encrypted with a passphrase", () => {
    const file = load(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8")) as Record<string, unknown>;
    // A passphrase stack carries its salt; prod's provider is Pulumi Cloud's key or a KMS key.
    assert.ok(!("encryptionsalt" in file), "prod must not use the passphrase secrets provider");
    assert.equal(file.secretsprovider, undefined, "no provider the unit tests cannot use is committed");
  });

  it("the apps' Dockerfiles default BASE_IMAGE to the digest the program builds on", () => {
    for (const app of ["fastapi", "django"]) {
      const dockerfile = fs.readFileSync(path.join(root, "apps", app, "Dockerfile"), "utf8");
      assert.deepEqual(dockerfile.match(/^ARG BASE_IMAGE=.*$/gm), [`ARG BASE_IMAGE=${DEFAULT_BASE_IMAGE}`], app);
    }
  });
});
