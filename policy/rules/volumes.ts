// volume-types: pods mount only the volume types of the restricted Pod Security level, an allow
// list, so a type this pack does not know is refused rather than waved through. The types it
// allows reach storage only through objects the cluster manages (ConfigMaps, Secrets, claims,
// CSI drivers its operators installed) or the pod's own scratch space.
import { groupKind, nameOf } from "../kube";
import { inPod, podViews } from "../pods";
import { at, isFields, keys, objects, show, text, type Props } from "../read";

/** The volume sources Pod Security's restricted level allows (Kubernetes 1.33 on, with image volumes). */
const ALLOWED = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

/** Why a type that is not allowed reaches past the pod, where one reason is sharper than the general one. */
const WHY: Record<string, string> = {
  gitRepo: "which the node clones with its own git, as root on the node",
  flexVolume: "whose driver runs as root on the node",
};
const REACHES =
  "which the node mounts for the pod itself, around the PersistentVolumes and access control the cluster manages";
const INSTEAD = "use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead";

/** Volumes of a type the restricted level does not allow; a PersistentVolume that is a directory of a node. */
export function volumeTypes(type: string, props: Props): string[] {
  if (groupKind(type) === "core/PersistentVolume") {
    return ["hostPath", "local"]
      .filter((source) => isFields(at(props, "spec", source)))
      .map(
        (source) =>
          `${nameOf(type, props)} is the node's ${show(at(props, "spec", source, "path"))} (spec.${source}), ` +
          "which any pod that claims it can read or change: claim volumes of a StorageClass that provisions them " +
          "instead",
      );
  }
  return podViews(type, props).flatMap((pod) =>
    objects(pod.spec.volumes).flatMap((volume) => {
      const name = text(volume.name) ?? "";
      // A patch's volume entry that sets no source changes one of the patched object's volumes, whose type stays.
      const sources = keys(volume).filter((field) => field !== "name" && volume[field] !== null);
      if (sources.includes("hostPath")) {
        return [
          inPod(
            pod,
            `pod mounts the node's ${show(at(volume, "hostPath", "path"))} (volume "${name}"), ` +
              `which lets it read or change the node: ${INSTEAD} of a hostPath volume`,
          ),
        ];
      }
      return sources
        .filter((source) => !ALLOWED.includes(source))
        .map((source) =>
          inPod(
            pod,
            `pod mounts a ${source} volume ("${name}"), ${WHY[source] ?? REACHES}: ${INSTEAD} (the restricted Pod ` +
              `Security level allows only ${ALLOWED.join(", ")} volumes)`,
          ),
        );
    }),
  );
}
