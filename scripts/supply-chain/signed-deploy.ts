// `pulumi up` with the real engine of a program shaped like the app program's first step in a
// stack that requires signed images: verify the image, then register resources. Run by
// scripts/supply-chain/test to show that a signed image deploys and a refused one leaves the
// stack exactly as it was. The stack lives in WORKDIR (file backend), outside the repository.
//
//   npx ts-node scripts/supply-chain/signed-deploy.ts WORKDIR IMAGE PUBLIC-KEY
// Prints one JSON line: {"outcome": "deployed" | "refused", "message", "resources": [types],
// "released": the image the stack's release resource holds}.
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { verifyImageSignature } from "../../components/image/signature";

class Release extends pulumi.ComponentResource {
  constructor(name: string, image: string) {
    super("api-stack:test:Release", name, {}, {});
    this.registerOutputs({ image });
  }
}

async function main([workDir, image, publicKey]: string[]): Promise<void> {
  fs.mkdirSync(path.join(workDir, "state"), { recursive: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: "signed-deploy",
      projectName: "signed-deploy",
      // eslint-disable-next-line @typescript-eslint/require-await -- a SignatureError rejects the program's promise
      program: async () => {
        // Verify first: a SignatureError ends the program before any resource is registered.
        const verified = verifyImageSignature({ image, signer: { publicKey } });
        new Release("api", verified.image);
        return { deployed: verified.image };
      },
    },
    {
      workDir,
      envVars: {
        PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "signed-deploy-test",
        PULUMI_SKIP_UPDATE_CHECK: "1",
      },
    },
  );
  let outcome = "deployed";
  let message = "";
  try {
    await stack.up();
  } catch (e) {
    outcome = "refused";
    message =
      /image \S+ is not verified as signed by [^\n]*|image "[^"]*" is not pinned by digest[^\n]*/.exec(
        String(e),
      )?.[0] ?? String(e);
  }
  const { deployment } = (await stack.exportStack()) as {
    deployment: { resources?: { type: string; outputs?: { image?: string } }[] };
  };
  const resources = deployment.resources ?? [];
  const released = resources.find((r) => r.type === "api-stack:test:Release")?.outputs?.image ?? null;
  process.stdout.write(`${JSON.stringify({ outcome, message, resources: resources.map((r) => r.type), released })}\n`);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${String(e)}\n`);
  process.exitCode = 1;
});
