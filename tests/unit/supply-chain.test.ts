// The supply-chain scripts' wiring, with stand-ins for cosign, syft and osv-scanner that record
// how they were called and answer as the real ones do. The real tools run against the loopback
// registry and a fixture OSV database in scripts/supply-chain/test.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  cosignVerifyArgs,
  GITHUB_ACTIONS_ISSUER,
  SignatureError,
  verifyImageSignature,
} from "../../components/image/signature";

const ROOT = path.resolve(__dirname, "../..");
const HERE = path.join(ROOT, "scripts/supply-chain");
const IMAGE = `127.0.0.1:5000/api-stack/fastapi@sha256:${"e".repeat(64)}`;
const KEYLESS = {
  identity: "https://github.com/example-org/api-stack/.github/workflows/deploy.yml@refs/heads/main",
  issuer: GITHUB_ACTIONS_ISSUER,
};

/** A stand-in tool: records its arguments (one call per line) and runs `body`. */
function fake(body: string): { bin: string; calls: () => string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "supply-chain-"));
  const log = path.join(dir, "calls");
  const bin = path.join(dir, "tool");
  fs.writeFileSync(bin, `#!/usr/bin/env bash\necho "$*" >> "${log}"\n${body}\n`, { mode: 0o755 });
  return { bin, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []) };
}
const run = (file: string, args: string[], env: Record<string, string>) =>
  spawnSync(path.join(HERE, file), args, { env: { ...process.env, ...env }, encoding: "utf8", cwd: ROOT });

describe("supply chain: verify.ts", () => {
  it("passes when cosign verifies, and says how many signatures matched", () => {
    const cosign = fake(`echo '[{"critical":{}},{"critical":{}}]'`);
    const verified = verifyImageSignature({
      image: IMAGE,
      signer: { publicKey: "/keys/release.pub" },
      cosign: cosign.bin,
    });
    assert.deepEqual(verified, { image: IMAGE, signatures: 2, signer: "the key /keys/release.pub" });
    assert.deepEqual(cosign.calls(), [
      `verify --key /keys/release.pub --insecure-ignore-tlog=true --output json ${IMAGE}`,
    ]);
  });

  it("asks for the exact keyless identity and issuer, never a pattern", () => {
    assert.deepEqual(cosignVerifyArgs(KEYLESS), [
      "verify",
      "--certificate-identity",
      KEYLESS.identity,
      "--certificate-oidc-issuer",
      GITHUB_ACTIONS_ISSUER,
      "--output",
      "json",
    ]);
    assert.ok(!cosignVerifyArgs(KEYLESS).some((arg) => arg.includes("regexp")));
  });

  it("refuses an unsigned image with cosign's reason, naming the image and the signer", () => {
    const cosign = fake(
      `echo "Error: no signatures found" >&2\necho "main.go:74: error during command execution: ` +
        `no signatures found" >&2\nexit 1`,
    );
    assert.throws(
      () => verifyImageSignature({ image: IMAGE, signer: KEYLESS, cosign: cosign.bin }),
      (e: Error) => {
        assert.ok(e instanceof SignatureError);
        assert.equal(
          e.message,
          `image ${IMAGE} is not verified as signed by ${KEYLESS.identity} (issuer ${GITHUB_ACTIONS_ISSUER}): ` +
            "no signatures found",
        );
        return true;
      },
    );
  });

  it("refuses an image named by tag, or without a signer, before running cosign", () => {
    const cosign = fake("exit 0");
    assert.throws(
      () => verifyImageSignature({ image: "registry.example.com/api:latest", signer: KEYLESS, cosign: cosign.bin }),
      /is not pinned by digest/,
    );
    assert.throws(
      () =>
        verifyImageSignature({
          image: IMAGE,
          signer: { identity: "", issuer: GITHUB_ACTIONS_ISSUER },
          cosign: cosign.bin,
        }),
      /no signer given/,
    );
    assert.deepEqual(cosign.calls(), []);
  });

  it("says so when cosign cannot run at all", () => {
    assert.throws(
      () => verifyImageSignature({ image: IMAGE, signer: KEYLESS, cosign: "/nonexistent/cosign" }),
      /could not run cosign \(\/nonexistent\/cosign\) to verify/,
    );
  });
});

describe("supply chain: sign, sbom and scan", () => {
  it("signs keyless by default, or with a key and then without the transparency log; then attests the SBOM", () => {
    const cosign = fake("exit 0");
    assert.equal(run("sign", [IMAGE, "sbom.spdx.json"], { COSIGN_BINARY: cosign.bin }).status, 0);
    assert.equal(
      run("sign", ["--key", "release.key", IMAGE, "sbom.spdx.json"], { COSIGN_BINARY: cosign.bin }).status,
      0,
    );
    assert.deepEqual(cosign.calls(), [
      `sign --yes ${IMAGE}`,
      `attest --yes --type spdxjson --predicate sbom.spdx.json ${IMAGE}`,
      `sign --yes --key release.key --tlog-upload=false ${IMAGE}`,
      `attest --yes --key release.key --tlog-upload=false --type spdxjson --predicate sbom.spdx.json ${IMAGE}`,
    ]);
  });

  it("signs and describes only what a digest names", () => {
    const tool = fake("exit 0");
    const tag = "registry.example.com/api:latest";
    assert.equal(run("sign", [tag, "sbom.spdx.json"], { COSIGN_BINARY: tool.bin }).status, 2);
    assert.equal(run("sbom", [tag, "out.json"], { SYFT_BINARY: tool.bin }).status, 2);
    assert.deepEqual(tool.calls(), []);
    assert.equal(run("sbom", [IMAGE, "out.json"], { SYFT_BINARY: tool.bin }).status, 0);
    assert.deepEqual(tool.calls(), [`scan registry:${IMAGE} --quiet --output spdx-json=out.json`]);
  });

  it("scans the lockfile of every app that ships an image by default, offline against a given database", () => {
    const scanner = fake("exit 0");
    assert.equal(run("scan", [], { OSV_SCANNER_BINARY: scanner.bin }).status, 0);
    assert.equal(
      run("scan", ["--offline-db", "/db", "--config", "other.toml", "sbom.spdx.json"], {
        OSV_SCANNER_BINARY: scanner.bin,
      }).status,
      2,
    );
    fs.writeFileSync(path.join(os.tmpdir(), "scan-target.spdx.json"), "{}");
    assert.equal(
      run("scan", ["--offline-db", "/db", "--config", "other.toml", path.join(os.tmpdir(), "scan-target.spdx.json")], {
        OSV_SCANNER_BINARY: scanner.bin,
      }).status,
      0,
    );
    const lockfiles = fs
      .readdirSync(path.join(ROOT, "apps"))
      .filter((app) => fs.existsSync(path.join(ROOT, "apps", app, "Dockerfile")))
      .sort()
      .map((app) => `--lockfile ${ROOT}/apps/${app}/uv.lock`)
      .join(" ");
    const sbom = path.join(os.tmpdir(), "scan-target.spdx.json");
    assert.deepEqual(scanner.calls(), [
      `scan source --config ${ROOT}/osv-scanner.toml ${lockfiles}`,
      `scan source --config other.toml --offline --local-db-path /db --lockfile ${sbom}`,
    ]);
  });

  it("passes osv-scanner's verdict through: findings fail the scan", () => {
    assert.equal(run("scan", [], { OSV_SCANNER_BINARY: fake("exit 1").bin }).status, 1);
  });

  it("accepts findings only with a reason and an expiry (osv-scanner.toml)", () => {
    const entries = fs
      .readFileSync(path.join(ROOT, "osv-scanner.toml"), "utf8")
      .split(/^\[\[IgnoredVulns\]\]$/m)
      .slice(1);
    for (const entry of entries) {
      assert.match(entry, /^id = "[^"]+"$/m);
      assert.match(entry, /^ignoreUntil = \d{4}-\d{2}-\d{2}$/m);
      assert.match(entry, /^reason = ".{20,}"$/m);
    }
  });
});
