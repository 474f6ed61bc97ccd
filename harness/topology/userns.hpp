// Running without root: the harness becomes root of a user namespace of its own, with its own
// mount and network namespaces and a private tmpfs on /run, where named namespaces, veth pairs,
// per-namespace sysctls, nftables and AF_PACKET captures all work. tracefs does not (the kernel
// refuses it there), so such runs observe through sock_diag snapshots and the capture alone.
// Everything made this way disappears with the process, however it ends.
#pragma once
#include <string>

namespace socklab {

// Must be called while the process has a single thread. Returns false with `why` when the kernel
// does not allow unprivileged user namespaces.
bool enter_user_namespace(std::string& why);

}  // namespace socklab
