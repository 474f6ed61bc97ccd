// The blog's first tool, `netstat -ant | awk` counting connections per state, over sock_diag:
// counts per state, TIME_WAIT included, and how many of them no process holds (inode 0).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "observation/sockdiag.hpp"

namespace socklab {

struct Census {
    std::map<std::string, int> states;    // state -> sockets
    std::map<std::string, int> unowned;   // state -> sockets with inode 0
    int total = 0;
};

Census take_census(const std::vector<SocketInfo>& sockets);
nlohmann::json census_json(const Census& census);
// "  ESTABLISHED      6  (6 without a process)" lines, states in the kernel's order.
std::string census_text(const Census& census);

}  // namespace socklab
