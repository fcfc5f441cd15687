module api-stack.local/toolchain/pause

go 1.24
