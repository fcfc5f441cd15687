// Added to kube-network-policies' networkpolicy package by testbed/toolchain.
//
// The enforcer hands the first packet of each connection to user space through an nfqueue. It
// emits nftables' native `queue` statement, which needs the kernel's nft_queue module; kernels
// built without it (CONFIG_NFT_QUEUE unset, as on this machine) refuse the whole ruleset. The
// xtables NFQUEUE target reached through nft_compat (CONFIG_NFT_COMPAT and
// CONFIG_NETFILTER_XT_TARGET_NFQUEUE) has the same verdict semantics, so every queue statement is
// built here instead, as that target.
package networkpolicy

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// Flags of struct xt_NFQ_info_v3 (include/uapi/linux/netfilter/xt_NFQUEUE.h).
const nfqFlagBypass = 0x01

// nfqueueVerdict sends the packet to queue num; with bypass the packet is accepted when no
// program listens on the queue (fail-open) instead of dropped.
func nfqueueVerdict(num uint16, bypass bool) expr.Any {
	// struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16 flags; }, host byte
	// order, padded to the 8-byte alignment that xt_check_target expects of the payload.
	info := make(xt.Unknown, 8)
	binary.NativeEndian.PutUint16(info[0:], num)
	binary.NativeEndian.PutUint16(info[2:], 1)
	if bypass {
		binary.NativeEndian.PutUint16(info[4:], nfqFlagBypass)
	}
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &info}
}
