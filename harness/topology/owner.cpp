#include "topology/owner.hpp"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <string>

namespace socklab {

std::string owned_name(const std::string& what) {
    return kObjectPrefix + std::to_string(::getpid()) + "-" + what;
}

std::optional<pid_t> owner_of(const std::string& name) {
    const std::string prefix = kObjectPrefix;
    if (name.rfind(prefix, 0) != 0) return std::nullopt;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(first, last, pid);
    if (ec != std::errc() || end == first || pid <= 0) return std::nullopt;
    if (end != last && *end != '-') return std::nullopt;
    return pid;
}

bool owner_alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    // "pid (comm) S ...": comm may hold spaces, so find the last ')'.
    auto close = line.rfind(')');
    auto open = line.find('(');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) return false;
    const std::string comm = line.substr(open + 1, close - open - 1);
    const char state = line[close + 2];
    return state != 'Z' && state != 'X' && comm.rfind("socklab", 0) == 0;
}

bool is_stale(const std::string& name) {
    auto pid = owner_of(name);
    return pid && !owner_alive(*pid);
}

}  // namespace socklab
