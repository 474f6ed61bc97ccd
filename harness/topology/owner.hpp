// Every object a run creates (namespaces, tracefs instances) is named "socklab-<pid>-<what>", so a
// later run can tell the objects of dead runs from those of live ones and sweep the former.
#pragma once
#include <optional>
#include <string>
#include <sys/types.h>

namespace socklab {

inline constexpr const char* kObjectPrefix = "socklab-";

// "socklab-<getpid()>-<what>"
std::string owned_name(const std::string& what);
// The pid in such a name; nullopt when the name is not one of ours.
std::optional<pid_t> owner_of(const std::string& name);
// True while `pid` is a live process (not a zombie) whose command is socklab; pid reuse by an
// unrelated program therefore does not keep a dead run's objects alive.
bool owner_alive(pid_t pid);
// True when `name` is one of ours and its owner is gone.
bool is_stale(const std::string& name);

}  // namespace socklab
