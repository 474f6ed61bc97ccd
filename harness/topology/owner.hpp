// Every object a run creates (namespaces, tracefs instances) is named "socklab-<pid>-<what>", so a
// later run can tell the objects of dead runs from those of live ones and sweep the former.
#pragma once
#include <optional>
#include <string>
#include <sys/types.h>

namespace socklab {

inline constexpr const char* kObjectPrefix = "socklab-";

// "socklab-<getpid()>-<what>". The first call in a process claims its pid's names for as long as
// the process lives, and any process it forks after that (a reaper finishing its teardown):
// an abstract unix socket "socklab-owner-<pid>" listens, the kernel drops it with the last copy.
std::string owned_name(const std::string& what);
// The pid in such a name; nullopt when the name is not one of ours.
std::optional<pid_t> owner_of(const std::string& name);
// True while `pid` is a live process (not a zombie) whose command is socklab (pid reuse by an
// unrelated program therefore does not keep a dead run's objects alive), or while a process it
// forked still holds its claim.
bool owner_alive(pid_t pid);
// When pid has exited and a process it forked holds its claim (a reaper), waits until that one
// lets go, at most `timeout_s`; false when it still holds it.
bool wait_for_reaper(pid_t pid, double timeout_s);
// True when `name` is one of ours and its owner is gone.
bool is_stale(const std::string& name);

}  // namespace socklab
