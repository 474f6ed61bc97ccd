// server_closes_first client: connects, stays quiet while the server ends its side, then sends
// --bytes to a server that may no longer have the connection, and (--again 1) sends once more.
// With --block-sigpipe 1 the SIGPIPE that the second send() raises is held pending and collected
// with sigtimedwait() instead of killing the process.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 5 [--again 0] [--block-sigpipe 1]
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N [--again 0|1] [--block-sigpipe 0|1]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const std::string data(static_cast<size_t>(args.number("bytes", 5)), 'x');

    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (args.number("block-sigpipe", 0)) lab::result("sigprocmask", sigprocmask(SIG_BLOCK, &pipe_set, nullptr));

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));

    lab::step("send");
    lab::result("send", send(fd, data.data(), data.size(), 0));  // accepted into the send buffer

    if (args.number("again", 1)) {
        lab::step("send_again");
        // After a RST: -1 EPIPE, and SIGPIPE, which kills us unless it is blocked or handled.
        lab::result("send", send(fd, data.data(), data.size(), 0));
        if (args.number("block-sigpipe", 0)) {
            timespec no_wait{};
            lab::result("sigtimedwait", sigtimedwait(&pipe_set, nullptr, &no_wait));  // 13: SIGPIPE was pending
        }
    }

    lab::step("close");
    char buf[512];
    lab::result("recv", recv(fd, buf, sizeof buf, 0));  // 0: the server's FIN
    lab::result("close", close(fd));
}
