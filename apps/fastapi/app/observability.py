"""Optional error reporting (Sentry) and tracing (OpenTelemetry), each on only when configured."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from app.config import Settings
from app.redaction import redact_span

log = logging.getLogger(__name__)


def init_sentry(settings: Settings) -> None:
    if settings.sentry_dsn is None:
        return
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=f"{settings.app_name}@{settings.app_version}",
        # No user identity and no request bodies in error reports; other data is collected with
        # the SDK's sensitive-value scrubbing.
        data_collection={"user_info": False, "http_bodies": []},
        traces_sample_rate=0.0,
    )


def init_tracing(app: FastAPI, settings: Settings) -> None:
    if not settings.otel_exporter_otlp_endpoint:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": settings.app_name,
                "service.version": settings.app_version,
                "deployment.environment": settings.environment,
            }
        )
    )
    # Batching keeps export off the request path; a down collector costs dropped spans, not latency.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=5)))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="health/.*", server_request_hook=redact_span
    )
    log.info("tracing to %s", endpoint)
