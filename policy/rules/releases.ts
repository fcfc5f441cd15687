// image-digest and blue-green-promotion: what runs is exactly the release that was built, signed
// and promoted, never whatever a tag points at by the time a node pulls it.
import { groupKind, isPatch, kindOf } from "../kube";
import { containerLabel, containersOf, inPod, podViews, workloadPod } from "../pods";
import { at, objects, show, text, type Props } from "../read";
import {
  DIGEST_REF_PATTERN,
  PROMOTION_ANNOTATION,
  PROMOTION_SOURCES,
  readPromotionRecord,
  releaseIdOf,
} from "../release";
import { key } from "./rule";

/** The config key that chooses each container's image, by the container names the program uses. */
const IMAGE_KEYS: Record<string, string> = {
  backup: "backupImage",
  postgres: "postgresImage",
  redis: "redisImage",
};

/** What is wrong with an image reference that is not pinned by digest; undefined for one that is. */
function unpinned(image: string): string | undefined {
  if (DIGEST_REF_PATTERN.test(image)) {
    return undefined;
  }
  if (image.includes("@")) {
    return "has no valid sha256 digest";
  }
  // A tag follows the last ":" after the last "/" (a ":" before it belongs to a registry port).
  const lastPart = image.slice(image.lastIndexOf("/") + 1);
  const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : undefined;
  if (tag === undefined) {
    return "has neither tag nor digest, so it is whatever latest is at pull time";
  }
  return tag === "latest" ? "uses the mutable tag latest" : `is pinned only by the tag ${tag}, which can be moved`;
}

const PIN = "pin it by digest, as repository@sha256:<digest>";

/** Images of containers and image volumes referenced by a tag (or by nothing: latest) rather than a digest. */
export function imageDigest(type: string, props: Props): string[] {
  return podViews(type, props).flatMap((pod) => {
    const containers = containersOf(pod)
      // A patch that does not set a container's image keeps the patched object's; a container
      // it adds without one cannot start.
      .filter((ref) => !(pod.partial || ref.partial) || ref.container.image !== undefined)
      .flatMap((ref) => {
        const image = show(ref.container.image ?? "");
        const problem = unpinned(image);
        const configKey = key(IMAGE_KEYS[ref.name] ?? "imageRef");
        const fix = `${PIN} (${configKey}; the app's image is pinned when the program builds it)`;
        return problem ? [`${containerLabel(ref)} image "${image}" ${problem}: ${fix}`] : [];
      });
    const volumes = objects(pod.spec.volumes).flatMap((volume) => {
      const image = text(at(volume, "image", "reference"));
      const problem = image === undefined ? undefined : unpinned(image);
      return problem ? [`volume "${show(volume.name)}" image "${image}" ${problem}: ${PIN}`] : [];
    });
    return [...containers, ...volumes].map((message) => inPod(pod, message));
  });
}

/**
 * Blue-green Rollouts that promote a release nobody promoted by config, as the program records
 * it (PROMOTION_ANNOTATION). A RolloutPatch is judged when it turns auto-promotion on (true, or
 * null, which restores Argo's default of true), and must then set the image it promotes.
 */
export function blueGreenPromotion(type: string, props: Props): string[] {
  if (groupKind(type) !== "argoproj.io/Rollout") {
    return [];
  }
  const who = kindOf(type);
  const blueGreen = at(props, "spec", "strategy", "blueGreen");
  // Argo promotes automatically unless told not to: unset counts as true.
  const autoPromotion = at(blueGreen, "autoPromotionEnabled");
  if (!blueGreen || autoPromotion === false || (isPatch(type) && autoPromotion === undefined)) {
    return [];
  }
  const pod = workloadPod(type, props);
  const containers = pod ? containersOf(pod).filter((ref) => !ref.init) : [];
  const app = containers.find((ref) => ref.name === "api") ?? containers[0];
  const wait = "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then";
  if (isPatch(type) && app?.container.image === undefined) {
    return [
      `${who} turns on auto-promotion without setting the image it promotes, so no promotion by config can name ` +
        `the release: ${wait} promote it with ${key("promote")}`,
    ];
  }
  const image = show(app?.container.image ?? "");
  const release = releaseIdOf(image);
  if (!release) {
    return [
      `${who} auto-promotes image "${image}", which has no digest, so no promotion by config can name it: ` +
        `deploy a digest-pinned image and promote it with ${key("promote")}`,
    ];
  }
  const promoteWith = `pulumi config set promote ${release}`;
  const recorded = at(props, "metadata", "annotations", PROMOTION_ANNOTATION);
  if (recorded === undefined) {
    return [
      `${who} auto-promotes release ${release} without a promotion by config (no ${PROMOTION_ANNOTATION} ` +
        `annotation): ${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  const record = readPromotionRecord(show(recorded));
  if (!record) {
    return [
      `${who} auto-promotes release ${release} with an unreadable ${PROMOTION_ANNOTATION} annotation ` +
        `"${show(recorded)}" (expected ${PROMOTION_SOURCES.join("|")}:<release id>): ` +
        `${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  const { source, release: promoted } = record;
  if (source === "autoPromote") {
    return [
      `${who} auto-promotes release ${release} because ${key("autoPromote")} is true, which is refused in prod: ` +
        `unset it (pulumi config rm autoPromote) and promote each release with \`${promoteWith}\` ` +
        `(${key("promote")})`,
    ];
  }
  if (promoted !== release) {
    const named =
      source === "promote"
        ? `${key("promote")} names release ${promoted}`
        : source === "rollbackTo"
          ? `${key("rollbackTo")} names release ${promoted}`
          : `the active release is ${promoted}`;
    return [
      `${who} auto-promotes release ${release} but ${named}: a promotion applies to exactly one release; ${wait} ` +
        `promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  return [];
}
