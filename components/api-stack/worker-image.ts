// Which image the Celery worker runs, pure. The worker takes the tasks the API queues, so it runs
// the release that serves users: the `active` image of the release state once the update has
// settled (a blue-green release waiting in preview or a canary in progress is not active yet; an
// aborted one never is). When the state names no active image, the live release could not be read
// and the worker keeps what it runs: like a promotion, moving it fails closed.
import type { LiveRelease, ReleaseState } from "../api/release-state";

export interface WorkerImageInput {
  /** The release as the update settled (in a preview, as planned). */
  release: ReleaseState;
  /** The image this update deploys. */
  candidate: string;
  /** What the worker's Deployment runs now; read only when `release` names no active image. */
  worker?: LiveRelease;
  /**
   * The program applies to no cluster it reads (render mode): nothing waits for a release there,
   * so nothing can hold the worker back either.
   */
  rendersOnly: boolean;
}

export type WorkerImage =
  /** `warning`: said once when the image is not the active release's (kept, or rendered as is). */
  { image: string; warning?: string } | { refused: string };

export function workerImage({ release, candidate, worker, rendersOnly }: WorkerImageInput): WorkerImage {
  if (release.active !== undefined) {
    return { image: release.active };
  }
  const why = release.note ?? "The release state names no active image.";
  if (worker?.kind === "live") {
    return { image: worker.active, warning: `${why} The worker keeps the image it runs, ${worker.active}.` };
  }
  if (rendersOnly) {
    return {
      image: candidate,
      warning:
        `${why} The worker is rendered with the image of this update, ${candidate}: render mode reads no ` +
        "cluster, so it cannot keep the worker on the release that serves; " +
        "hold it back where the manifests are applied.",
    };
  }
  const seen =
    worker === undefined
      ? "was not read"
      : worker.kind === "absent"
        ? "does not exist yet"
        : `could not be read either (${worker.reason})`;
  return {
    refused:
      `${why} The worker runs only the release that serves users, and its Deployment ${seen}, ` +
      "so the update stops before the worker changes: restore access to the cluster, " +
      "or name the release that serves with `promote` or `rollbackTo`.",
  };
}
