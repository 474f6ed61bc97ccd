// zero_window client, the writer: small send buffer, non-blocking, sends until the kernel takes no
// more. The reader does not read, so its window closes; the data waits here, and the kernel's
// persist timer probes the closed window. poll() then waits for room: it returns once the reader
// reads again (a window update), or with an error once the kernel gives up on a silent reader.
//
//   client --addr 198.18.0.2 --port 8080 --sndbuf 4096 --chunk 4096 [--user-timeout MS]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --sndbuf N --chunk N [--user-timeout MS]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int sndbuf = args.number("sndbuf", 4096);
    const std::vector<char> buf(static_cast<size_t>(args.number("chunk", 4096)), 'x');
    const unsigned user_timeout = static_cast<unsigned>(args.number("user-timeout", 0));

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("setsockopt", setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf));  // before connect
    if (user_timeout > 0)  // also bounds how long a closed window may stay closed
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout));
    lab::result("connect", connect(fd, server.sa(), server.len));
    int flags = lab::result("fcntl", fcntl(fd, F_GETFL));
    lab::result("fcntl", fcntl(fd, F_SETFL, flags | O_NONBLOCK));

    lab::step("fill");
    // Send while poll() reports room, until the harness sees the window closed (probe timer armed).
    while (lab::result("send", send(fd, buf.data(), buf.size(), MSG_NOSIGNAL)) > 0 || !lab::step_or("full", fd, POLLOUT)) {
    }
    while (lab::result("send", send(fd, buf.data(), buf.size(), MSG_NOSIGNAL)) > 0) {  // what the last ACKs freed
    }

    lab::step("wait_room");
    pollfd pfd{fd, POLLOUT, 0};
    lab::result("poll", poll(&pfd, 1, -1));  // room again, or the error that ended the connection
    lab::result("send", send(fd, buf.data(), buf.size(), MSG_NOSIGNAL));  // bytes, or -1 ETIMEDOUT
    lab::result("close", close(fd));
}
