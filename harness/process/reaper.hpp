// A reaper: the last part of a run's teardown done by a process of its own, after the run has
// exited, so that the run's caller (a shell, ctest) does not wait for it. Removing a trace
// instance, closing a packet socket and freeing two namespaces each wait out RCU grace periods,
// tens of milliseconds that no verdict depends on.
#pragma once
#include <functional>

namespace socklab {

// Forks a process that waits until this one has exited (until then this one holds the files
// the teardown closes: a trace instance with open files cannot be removed), runs `teardown`
// and exits. It holds this process's claim (topology/owner), so a sweep leaves the objects to
// it while it lives, and `socklab sweep` waits for it; if it is killed, the next sweep removes
// them. It has a session of its own and no terminal, and its stdio is /dev/null, so a caller
// reading this process's output sees its end at once. Without a fork, `teardown` runs here.
// Call it last: the objects `teardown` destroys must not be touched here after it.
void reap_after_exit(const std::function<void()>& teardown);

}  // namespace socklab
