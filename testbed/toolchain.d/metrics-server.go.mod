// Wrapper for metrics-server: the resource metrics API (kubectl top, CPU and memory autoscaling)
// of the local cluster.
module api-stack.local/toolchain/metrics-server

require sigs.k8s.io/metrics-server v@VERSION@

tool sigs.k8s.io/metrics-server/cmd/metrics-server
