// The namespace's TCP counters, /proc/net/netstat and /proc/net/snmp as `nstat` reads them.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace socklab {

// Keys are "TcpExt.ListenOverflows", "Tcp.ActiveOpens", ...
using Counters = std::map<std::string, int64_t>;

// Parses the two-line "Prefix: names" / "Prefix: values" format of those files.
Counters parse_counters(const std::string& text);
// Reads both files as seen from inside namespace `netns`.
Counters read_counters(const std::string& netns);

}  // namespace socklab
