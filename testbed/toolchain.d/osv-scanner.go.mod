// Wrapper for osv-scanner v2: vulnerability scans of the apps' lockfiles against an OSV database.
module api-stack.local/toolchain/osv-scanner

require github.com/google/osv-scanner/v2 v@VERSION@

tool github.com/google/osv-scanner/v2/cmd/osv-scanner
