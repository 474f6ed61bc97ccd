// Starting programs inside a test host's namespace: the scenario programs and the tools (ip, nft).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace socklab {

struct SpawnOptions {
    std::string netns;    // empty: stay in the caller's namespace
    int stdin_fd = -1;    // -1: /dev/null
    int stdout_fd = -1;   // -1: /dev/null
    int stderr_fd = -1;   // -1: /dev/null
    int cpu = -1;         // pin to this CPU (see Program), -1: leave as is
};

// fork + setns + exec. The child gets SIGKILL when the harness dies (PR_SET_PDEATHSIG), so a
// killed run leaves no programs behind. Throws std::runtime_error when the fork fails; a failed
// exec shows as exit status 127.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

struct CommandResult {
    int status = -1;      // exit status, or -1 when killed by a signal
    std::string output;   // stdout and stderr together
};

// Runs a tool to completion, `input` on its stdin, inside `netns` when given.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& netns = "",
                          const std::string& input = "");

}  // namespace socklab
