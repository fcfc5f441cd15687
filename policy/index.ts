// The api-stack policy pack: the production rules of this project, checked on every preview
// and update (`pulumi preview --policy-pack policy`). Rules live in rules/, one module per topic,
// their scoping and config in pack.ts; docs/policy.md explains how to run, configure and extend it.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./pack";

new PolicyPack("api-stack", {
  description:
    "Production rules for api-stack's Kubernetes objects, patches and rendered manifests: pod security, " +
    "no host access, resources, probes, pinned images, no external exposure, TLS and explicit hosts for Ingresses " +
    "and Gateway routes, secrets, blue-green promotion, availability, RBAC, admission webhooks and namespaces' " +
    "Pod Security labels.",
  policies: policies(),
});
