"""The sample API on Kubernetes through the ApiStack component package: examples/yaml in Python.

Dev-shaped: Postgres and Redis in its namespace, plain HTTP behind an Ingress, rolling releases,
autoscaled from 1 to 3 pods; the image built beforehand and deployed by its digest. Every input is
checked by the component before it registers anything.
"""

import pulumi
import pulumi_api_stack as api_stack

config = pulumi.Config()

api = api_stack.ApiStack(
    "api",
    environment=api_stack.Environment.DEV,
    namespace=config.get("namespace") or "api-python",
    image_ref=config.require("imageRef"),
    secret_key=config.require_secret("secretKey"),
    api_tokens=config.require_secret("apiTokens"),
    dev_services_enabled=True,
    dev_postgres_password=config.require_secret("devPostgresPassword"),
    # Unset (None): the component's defaults.
    postgres_image=config.get("postgresImage"),
    redis_image=config.get("redisImage"),
    strategy=api_stack.Strategy.ROLLING,
    ingress_enabled=True,
    exposure=api_stack.Exposure.INGRESS,
    ingress_host=config.get("host") or "api.python.localhost",
    ingress_tls=False,
    # The ingress controller's pods, the only peers the NetworkPolicy lets reach the API.
    ingress_controller_peer=api_stack.PeerPodsArgs(
        namespace=config.get("ingressControllerNamespace") or "ingress-nginx",
        pod_labels={"app.kubernetes.io/name": config.get("ingressControllerName") or "ingress-nginx"},
    ),
    hpa_min_replicas=1,
    hpa_max_replicas=3,
    cpu_request="100m",
    memory_request="128Mi",
)

pulumi.export("namespace", api.namespace)
pulumi.export("image", api.image)
pulumi.export("serviceName", api.service_name)
pulumi.export("url", api.url)
pulumi.export("migrationJob", api.migration_job)
pulumi.export("release", api.release)
