// Wrapper for Prometheus (metrics for the release analyses), built with Kubernetes service
// discovery only.
module api-stack.local/toolchain/prometheus

require github.com/prometheus/prometheus v@VERSION@
