// Wrapper for the Prometheus Operator and the config reloader its Prometheus pods run beside
// Prometheus. Upstream replaces its two API submodules with directories of its repository; the
// same releases are required from the proxy instead.
module api-stack.local/toolchain/prometheus-operator

require github.com/prometheus-operator/prometheus-operator v@VERSION@

tool (
	github.com/prometheus-operator/prometheus-operator/cmd/operator
	github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader
)
