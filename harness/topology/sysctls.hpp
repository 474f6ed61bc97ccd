// Effective sysctl values of one namespace, as read back after setting them
// ("net.ipv4.tcp_syn_retries" -> 6): written by the topology, read by the kernel rules.
#pragma once
#include <map>
#include <string>

namespace socklab {

using Sysctls = std::map<std::string, long>;

}  // namespace socklab
