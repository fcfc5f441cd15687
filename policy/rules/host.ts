// host-namespaces and host-ports: pods that share the node's namespaces, run as a Windows host
// process, or bind the node's ports.
import { containerLabel, containersOf, inPod, podViews } from "../pods";
import { at, objects, show, type Props } from "../read";

const HOST_NAMESPACES = [
  [
    "hostNetwork",
    "the node's network namespace, so it can bind the node's ports and reach every service listening on the node",
  ],
  ["hostPID", "the node's process namespace, so it can see, and signal, every process on the node"],
  ["hostIPC", "the node's IPC namespace, so it can read other processes' shared memory"],
] as const;

const hostProcess = (sc: unknown) => at(sc, "windowsOptions", "hostProcess") === true;

/** Pods that share a namespace with the node, or run as a Windows host process. */
export function hostNamespaces(type: string, props: Props): string[] {
  return podViews(type, props).flatMap((pod) => {
    const shared = HOST_NAMESPACES.filter(([name]) => pod.spec[name] === true).map(
      ([name, what]) => `pod shares ${what}: remove spec.${name}`,
    );
    const who = [
      ...(hostProcess(pod.spec.securityContext) ? ["pod"] : []),
      ...containersOf(pod)
        .filter((ref) => hostProcess(ref.container.securityContext))
        .map(containerLabel),
    ];
    const hostProcesses = who.map(
      (subject) =>
        `${subject} runs as a Windows host process, with the node's privileges: ` +
        "remove securityContext.windowsOptions.hostProcess",
    );
    return [...shared, ...hostProcesses].map((message) => inPod(pod, message));
  });
}

/** Containers that bind a port of the node. */
export function hostPorts(type: string, props: Props): string[] {
  return podViews(type, props).flatMap((pod) =>
    containersOf(pod).flatMap((ref) =>
      objects(ref.container.ports)
        .filter((port) => port.hostPort)
        .map((port) =>
          inPod(
            pod,
            `${containerLabel(ref)} binds port ${show(port.hostPort)} of its node (hostPort of containerPort ` +
              `${show(port.containerPort)}), around its Service and the Ingress and onto every address of the ` +
              "node: remove hostPort",
          ),
        ),
    ),
  );
}
