import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { parseDigestRef } from "./reference";
import type { SecretValue } from "../secret";

/** Build the app's Dockerfile and push it. */
export interface ImageBuild {
  kind: "build";
  /** Absolute path of the build context. */
  context: string;
  /** Absolute path of the Dockerfile. Default: `Dockerfile` in the context. */
  dockerfile?: string;
  /** Stage of a multi-stage Dockerfile. Default: the last stage. */
  target?: string;
  /** Default: linux/amd64. */
  platform?: string;
  buildArgs?: Record<string, string>;
  /** Repository to push to, without tag or digest. */
  repository: string;
  /** Credentials for the registry. Default: the Docker credential store. */
  registry?: { server: string; username: string; password: SecretValue };
}

/** Deploy an image someone else built, by digest. */
export interface ImagePrebuilt {
  kind: "prebuilt";
  /** `repository@sha256:<digest>`. */
  ref: string;
}

export interface ImageArgs {
  source: ImageBuild | ImagePrebuilt;
  /**
   * Mutable tag pushed beside the digest. Workloads never use it; the next build reads its
   * layers as a cache (`cache-from`), so unchanged dependency layers are not rebuilt.
   */
  cacheTag: string;
}

/**
 * The app's image as a digest-pinned reference (`repository@sha256:...`): built from the
 * multi-stage Dockerfile and pushed, or taken as given when the stack deploys a prebuilt image.
 */
export class Image extends pulumi.ComponentResource {
  /** `repository@sha256:<digest>`: the only form workloads reference. */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Image", name, {}, opts);
    const source = args.source;
    if (source.kind === "prebuilt") {
      parseDigestRef(source.ref);
      this.ref = pulumi.output(source.ref);
    } else {
      const cacheRef = `${source.repository}:${args.cacheTag}`;
      const image = new docker.Image(
        name,
        {
          imageName: cacheRef,
          build: {
            context: source.context,
            dockerfile: source.dockerfile ?? `${source.context}/Dockerfile`,
            target: source.target,
            platform: source.platform ?? "linux/amd64",
            builderVersion: "BuilderBuildKit",
            // Inline cache metadata is what lets the next build use this image as cache-from.
            args: { ...source.buildArgs, BUILDKIT_INLINE_CACHE: "1" },
            cacheFrom: { images: [cacheRef] },
          },
          registry: source.registry && {
            server: source.registry.server,
            username: source.registry.username,
            password: pulumi.secret(source.registry.password.reveal()),
          },
        },
        { parent: this },
      );
      this.ref = image.repoDigest.apply((ref) => {
        try {
          parseDigestRef(ref);
        } catch (error) {
          throw new Error(
            `image ${cacheRef} was pushed but the registry returned no digest: ${(error as Error).message}`,
            { cause: error },
          );
        }
        return ref;
      });
    }
    this.registerOutputs({ ref: this.ref });
  }
}
