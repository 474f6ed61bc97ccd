#include "observation/census.hpp"

#include <cstdio>

namespace socklab {

namespace {
// The order of the kernel's TCP states (include/net/tcp_states.h), the order ss and netstat use.
const std::vector<std::string> kOrder{"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
                                      "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"};
}  // namespace

Census take_census(const std::vector<SocketInfo>& sockets) {
    Census c;
    for (const auto& s : sockets) {
        c.states[s.state]++;
        if (s.inode == 0) c.unowned[s.state]++;
        c.total++;
    }
    return c;
}

nlohmann::json census_json(const Census& c) {
    return {{"states", c.states}, {"unowned", c.unowned}, {"total", c.total}};
}

std::string census_text(const Census& c) {
    std::string out;
    char line[96];
    for (const auto& state : kOrder) {
        auto it = c.states.find(state);
        if (it == c.states.end()) continue;
        auto unowned = c.unowned.find(state);
        const int n = unowned == c.unowned.end() ? 0 : unowned->second;
        std::snprintf(line, sizeof line, "  %-12s %6d", state.c_str(), it->second);
        out += line;
        if (n > 0) out += "  (" + std::to_string(n) + " without a process)";
        out += "\n";
    }
    std::snprintf(line, sizeof line, "  %-12s %6d\n", "total", c.total);
    return out + line;
}

}  // namespace socklab
