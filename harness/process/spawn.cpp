#include "process/spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "topology/netns.hpp"

namespace socklab {

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& o) {
    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int netns_fd = -1;
    if (!o.netns.empty()) {
        netns_fd = ::open(netns_path(o.netns).c_str(), O_RDONLY | O_CLOEXEC);
        if (netns_fd < 0) throw std::runtime_error("network namespace " + o.netns + " is gone");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        if (netns_fd >= 0) ::close(netns_fd);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // the harness died before prctl took effect
        ::signal(SIGPIPE, SIG_DFL);               // scenarios observe SIGPIPE, whatever the harness ignores
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) ::_exit(127);
        if (o.cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(o.cpu, &set);
            ::sched_setaffinity(0, sizeof set, &set);
        }
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(o.stdin_fd >= 0 ? o.stdin_fd : null_fd, 0);
        ::dup2(o.stdout_fd >= 0 ? o.stdout_fd : null_fd, 1);
        ::dup2(o.stderr_fd >= 0 ? o.stderr_fd : null_fd, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    if (netns_fd >= 0) ::close(netns_fd);
    return pid;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& netns, const std::string& input) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        throw std::runtime_error("pipe failed");
    }
    pid_t pid;
    try {
        pid = spawn(argv, {netns, in[0], out[1], out[1], -1});
    } catch (...) {
        for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
        throw;
    }
    ::close(in[0]);
    ::close(out[1]);
    // Feed stdin from a thread so a tool that writes much before reading cannot deadlock us.
    std::thread feeder([fd = in[1], &input] {
        size_t done = 0;
        while (done < input.size()) {
            ssize_t n = ::write(fd, input.data() + done, input.size() - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
        ::close(fd);
    });
    CommandResult result;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) result.output.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    feeder.join();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace socklab
