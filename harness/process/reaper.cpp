#include "process/reaper.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace socklab {

void reap_after_exit(const std::function<void()>& teardown) {
    int exited[2];  // the reaper reads EOF from it once the last write end, this process's, closes
    if (::pipe2(exited, O_CLOEXEC) != 0) return teardown();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(exited[0]);
        ::close(exited[1]);
        return teardown();
    }
    if (pid > 0) {
        ::close(exited[0]);
        return;  // exited[1] stays open until this process exits
    }
    ::close(exited[1]);
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    // The run's handlers (SIGINT, SIGTERM, SIGHUP) only set a flag nobody reads here: a signal
    // to the reaper ends it, and the next sweep finishes what it left.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    char byte;
    ssize_t n;
    do n = ::read(exited[0], &byte, 1);
    while (n < 0 && errno == EINTR);
    try {
        teardown();
    } catch (...) {
        ::_exit(1);
    }
    ::_exit(0);
}

}  // namespace socklab
