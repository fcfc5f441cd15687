// Wrapper for etcd: server/v3 replaces its sibling etcd modules with directories of the etcd
// repository; the same releases are required from the proxy instead.
module api-stack.local/toolchain/etcd

require go.etcd.io/etcd/server/v3 v@VERSION@

tool go.etcd.io/etcd/server/v3
