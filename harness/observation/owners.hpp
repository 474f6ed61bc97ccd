// Which processes hold a file descriptor for a socket: what lsof shows, read from /proc.
// A socket whose inode no descriptor refers to (an un-accept()ed connection, an orphan) has no
// owner, which is why lsof cannot list it.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace socklab {

struct Owner {
    pid_t pid = 0;
    std::string comm;
    int fd = -1;
};

// Socket inode -> the processes of namespace `netns` with a descriptor for it.
std::map<uint64_t, std::vector<Owner>> socket_owners(const std::string& netns);

}  // namespace socklab
