// Stand-ins for cosign in unit tests (mocks: no registry, no signatures). The program verifies a
// prebuilt image through scripts/supply-chain/verify.ts, which runs $COSIGN_BINARY; these
// answer as cosign does, for the tests of one describe block. The real cosign runs in
// scripts/supply-chain/test and in the deploy workflows.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

function standIn(body: string): string {
  const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cosign-")), "cosign");
  fs.writeFileSync(bin, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  return bin;
}

/** cosign as it answers for an image signed by the expected signer. */
export const SIGNED = () => standIn(`echo '[{"critical":{}}]'`);
/** cosign as it answers for an image nobody signed. */
export const UNSIGNED = () => standIn(`echo "Error: no signatures found" >&2\nexit 1`);

/** Runs the describe block's tests with `cosign` (SIGNED unless given) as $COSIGN_BINARY. */
export function withCosign(cosign: () => string = SIGNED): void {
  let previous: string | undefined;
  before(() => {
    previous = process.env.COSIGN_BINARY;
    process.env.COSIGN_BINARY = cosign();
  });
  after(() => {
    if (previous === undefined) {
      delete process.env.COSIGN_BINARY;
    } else {
      process.env.COSIGN_BINARY = previous;
    }
  });
}
