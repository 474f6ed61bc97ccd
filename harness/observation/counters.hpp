// The namespace's counters, /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6 as `nstat`
// reads them (TCP's are one set for both families; ICMPv6 and IPv6 have their own in snmp6).
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace socklab {

// Keys are "TcpExt.ListenOverflows", "Tcp.ActiveOpens", "Icmp6.InDestUnreachs", ...
using Counters = std::map<std::string, int64_t>;

// Parses the two-line "Prefix: names" / "Prefix: values" format of those files.
Counters parse_counters(const std::string& text);
// The one-counter-a-line format of /proc/net/snmp6: "Icmp6InDestUnreachs 2" -> "Icmp6.InDestUnreachs".
Counters parse_snmp6(const std::string& text);
// Reads the three files as seen from inside namespace `netns` (snmp6 when the kernel has IPv6).
Counters read_counters(const std::string& netns);

}  // namespace socklab
