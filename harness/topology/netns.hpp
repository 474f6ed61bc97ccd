// Named network namespaces, as `ip netns` makes them: a namespace bound at /run/netns/NAME, so
// that it outlives the thread that made it and `ip netns exec NAME ...` finds it. Done here with
// the system calls themselves (no `ip` process per step: a run makes and removes two of these).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace socklab {

// Path of a named namespace's bind mount; for "" the caller's own namespace.
std::string netns_path(const std::string& name);

// Creates the namespaces `names` (unshare + bind mount, like `ip netns add`), each with a TCP
// hash table of its own of `tcp_hash_buckets` buckets where the kernel can (6.1+); throws when one
// exists already, leaving none of them.
// Why a table of their own: a sock_diag dump walks every bucket of its namespace's table, and the
// host's global one has hundreds of thousands (about 5 ms a dump here, a few us for 1024).
void netns_add(const std::vector<std::string>& names, unsigned tcp_hash_buckets);

// Kills every process inside `name` with SIGKILL and removes its bind mount, like `ip netns pids`
// piped to kill, then `ip netns del`: the kernel frees the namespace, its links and nft tables
// once the last process in it is gone. Missing namespaces are ignored.
void netns_delete(const std::string& name);

// The processes whose network namespace is `name` (as `ip netns pids`).
std::vector<pid_t> netns_pids(const std::string& name);

// The names under /run/netns (as `ip netns list`), sorted.
std::vector<std::string> netns_list();

// While alive, the calling thread is inside namespace `name`; the destructor returns it to
// the namespace it came from. Sockets opened meanwhile (netlink, AF_PACKET, pcap) stay bound
// to `name` for their whole life, which is why observers open theirs inside one of these.
class NetnsEnter {
public:
    explicit NetnsEnter(const std::string& name);
    ~NetnsEnter();
    NetnsEnter(const NetnsEnter&) = delete;
    NetnsEnter& operator=(const NetnsEnter&) = delete;

private:
    int home_fd_ = -1;
};

}  // namespace socklab
