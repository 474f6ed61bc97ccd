// The helpers the scenario programs use (harness/program/lab.hpp), run in a child process whose
// stdin and stdout are pipes, as under the harness.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "program/lab.hpp"
#include "support.hpp"

namespace {

// Runs `body` in a child with stdin from `to_child` and stdout into a pipe; returns its exit
// status and everything it wrote.
template <typename Body>
std::pair<int, std::string> in_child(int to_child, Body body) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::cout.flush();  // else the child, if it exit()s, writes our buffered output a second time
    std::fflush(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(to_child, STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        std::_Exit(body());
    }
    ::close(out[1]);
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

}  // namespace

TEST_CASE("step_or: false while the descriptor is ready, true once released, and the step announced once") {
    int in[2], pair[2];
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    REQUIRE(::write(pair[1], "x", 1) == 1);  // pair[0] is readable (POLLIN) from the start
    auto [code, text] = in_child(in[0], [&] {
        int failures = 0;
        if (lab::step_or("full", pair[0], POLLIN)) failures |= 1;  // the socket is ready, stdin is not
        char c;
        if (::read(pair[0], &c, 1) != 1) failures |= 2;
        if (::write(in[1], "full\n", 5) != 5) failures |= 4;        // the release, as the harness writes it
        if (!lab::step_or("full", pair[0], POLLIN)) failures |= 8;  // nothing ready but stdin: released
        return failures;
    });
    ::close(in[0]);
    ::close(in[1]);
    ::close(pair[0]);
    ::close(pair[1]);
    CHECK(code == 0);
    CHECK(count_of(text, "{\"step\":\"full\"") == 1);
}

TEST_CASE("address: an IPv4 literal, else an IPv6 one, with the port") {
    auto v4 = lab::parse_address("198.18.0.2", 8080);
    REQUIRE(v4);
    CHECK(v4->family() == AF_INET);
    CHECK(v4->len == sizeof(sockaddr_in));
    const auto* in = reinterpret_cast<const sockaddr_in*>(v4->sa());
    CHECK(ntohs(in->sin_port) == 8080);
    CHECK(ntohl(in->sin_addr.s_addr) == 0xc6120002u);

    auto v6 = lab::parse_address("2001:db8::2", 8080);
    REQUIRE(v6);
    CHECK(v6->family() == AF_INET6);
    CHECK(v6->len == sizeof(sockaddr_in6));
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(v6->sa());
    CHECK(ntohs(in6->sin6_port) == 8080);
    in6_addr want{};
    REQUIRE(::inet_pton(AF_INET6, "2001:db8::2", &want) == 1);
    CHECK(IN6_ARE_ADDR_EQUAL(&in6->sin6_addr, &want));

    auto any = lab::parse_address("::", 8080);  // the dual-stack server's --addr
    REQUIRE(any);
    CHECK(any->family() == AF_INET6);
    CHECK(IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(any->sa())->sin6_addr));

    CHECK_FALSE(lab::parse_address("198.18.0.300", 8080));
    CHECK_FALSE(lab::parse_address("2001:db8::2::1", 8080));
    CHECK_FALSE(lab::parse_address("server", 8080));
    CHECK_FALSE(lab::parse_address("", 8080));
}

TEST_CASE("address: a bad --addr is a usage error, exit status 2") {
    int in[2];
    REQUIRE(::pipe(in) == 0);
    auto [code, text] = in_child(in[0], [] {
        ::dup2(STDOUT_FILENO, STDERR_FILENO);  // the message, into the text we read
        lab::address("198.18.0.300", 8080);
        return 0;
    });
    ::close(in[0]);
    ::close(in[1]);
    CHECK(code == 2);
    CHECK(text == "not an IPv4 or IPv6 address: 198.18.0.300\n");
}
