// The few helpers a scenario program uses to talk to the harness, kept out of the way so that a
// program reads as its syscall sequence.
//
//   lab::result("connect", connect(fd, ...));   reports the return value and errno of a syscall
//   lab::mark("listening");                     reports that a point was reached
//   lab::step("close");                         waits there until the harness (or you) says go
//
// Under the harness each report is one JSON line on stdout and a step waits for its name on
// stdin. Run by hand in a terminal, the reports are plain sentences and a step waits for Enter.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>

namespace lab {

inline bool by_hand() { return ::isatty(STDOUT_FILENO); }

// CLOCK_MONOTONIC, the clock of the kernel's trace events, so the harness can place each report
// on the run's timeline where it happened rather than where it was read.
inline long long now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// After fork(), lab::role("child") labels the child's reports, so parent and child can be told apart.
inline std::string& role() {
    static std::string name;
    return name;
}
inline void role(const char* name) { role() = name; }

// Reports a syscall's result and returns it unchanged; errno is kept for the caller too.
inline long result(const char* call, long ret) {
    const int err = errno;
    const long long t = now_ns();
    const char* name = ret < 0 ? ::strerrorname_np(err) : "";
    if (by_hand())
        std::printf("%s%s%s() = %ld%s%s\n", role().c_str(), role().empty() ? "" : ": ", call, ret, ret < 0 ? " " : "",
                    ret < 0 ? name : "");
    else if (role().empty())
        std::printf("{\"call\":\"%s\",\"ret\":%ld,\"errno\":\"%s\",\"t\":%lld}\n", call, ret, name ? name : "", t);
    else
        std::printf("{\"call\":\"%s\",\"ret\":%ld,\"errno\":\"%s\",\"t\":%lld,\"role\":\"%s\"}\n", call, ret,
                    name ? name : "", t, role().c_str());
    std::fflush(stdout);
    errno = err;
    return ret;
}

// Under the harness: {"mark":"listening","t":...} (or "step"), with the role after a fork, so
// that the harness knows which process's calls follow it.
inline void announce(const char* kind, const char* name) {
    if (role().empty())
        std::printf("{\"%s\":\"%s\",\"t\":%lld}\n", kind, name, now_ns());
    else
        std::printf("{\"%s\":\"%s\",\"t\":%lld,\"role\":\"%s\"}\n", kind, name, now_ns(), role().c_str());
}

inline void mark(const char* name) {
    if (by_hand())
        std::printf("-- %s\n", name);
    else
        announce("mark", name);
    std::fflush(stdout);
}

inline void step(const char* name) {
    if (by_hand())
        std::printf("-- %s: press Enter to go on ", name);
    else
        announce("step", name);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) std::exit(0);  // stdin closed: the harness is done with us
}

// A step the program waits at while it keeps an eye on one descriptor: returns true once released,
// false as soon as `fd` is ready for `events` (poll(2) flags), so the program can do its work and
// call it again. The step is announced once, at the first call. For a loop that must go on until
// the harness sees something in the kernel, e.g. send whenever there is room (POLLOUT) until the
// connection is full:
//   while (send(...) > 0 || !lab::step_or("full", fd, POLLOUT)) {}
inline bool step_or(const char* name, int fd, short events) {
    static std::string announced;
    if (announced != name) {
        announced = name;
        if (by_hand())
            std::printf("-- %s: press Enter to go on ", name);
        else
            announce("step", name);
        std::fflush(stdout);
    }
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {fd, events, 0}};
    while (::poll(fds, 2, -1) < 0 && errno == EINTR) {
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP))) return false;
    announced.clear();
    std::string line;
    if (!std::getline(std::cin, line)) std::exit(0);  // stdin closed: the harness is done with us
    return true;
}

// Command-line flags "--name value"; each program documents its own in its usage line.
class Args {
public:
    Args(int argc, char** argv, const char* usage) {
        for (int i = 1; i < argc; i += 2) {
            if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
                std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
                std::exit(2);
            }
            values_[argv[i] + 2] = argv[i + 1];
        }
    }
    std::string text(const std::string& name, const std::string& fallback) const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }
    int number(const std::string& name, int fallback) const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : std::atoi(it->second.c_str());
    }

private:
    std::map<std::string, std::string> values_;
};

// A socket address of either family, so that one program runs over IPv4 and IPv6 alike:
// socket(a.family(), ...), then bind() or connect() with a.sa() and a.len.
struct Address {
    sockaddr_storage storage{};
    socklen_t len = 0;
    int family() const { return storage.ss_family; }
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An IPv4 literal, else an IPv6 one; nothing for text that is neither. "::" is the IPv6 any
// address, which also takes IPv4 connections (as ::ffff:a.b.c.d) unless net.ipv6.bindv6only=1.
inline std::optional<Address> parse_address(const std::string& text, int port) {
    Address a;
    const uint16_t net_port = htons(static_cast<uint16_t>(port));
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = net_port;
        a.len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = net_port;
        a.len = sizeof *v6;
    } else {
        return std::nullopt;
    }
    return a;
}

// The same for a program's --addr flag: a bad one is a usage error.
inline Address address(const std::string& text, int port) {
    std::optional<Address> a = parse_address(text, port);
    if (!a) {
        std::fprintf(stderr, "not an IPv4 or IPv6 address: %s\n", text.c_str());
        std::exit(2);
    }
    return *a;
}

}  // namespace lab
