// sigpipe_vs_msg_nosignal client: connects, then sends --bytes at each step until a send() fails
// with EPIPE. Without --nosignal 1 that send() raises SIGPIPE, whose default action ends the
// process inside the call (it never returns); with --nosignal 1 each send() passes MSG_NOSIGNAL,
// gets -1 EPIPE back, and the client reads the end of the stream and closes.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 5 [--nosignal 0|1]
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N [--nosignal 0|1]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const std::string data(static_cast<size_t>(args.number("bytes", 5)), 'x');
    const int flags = args.number("nosignal", 0) ? MSG_NOSIGNAL : 0;

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));

    for (;;) {
        lab::step("send");
        // First: the length (it only copies into the send buffer). After a RST: the pending error
        // once (EPIPE or ECONNRESET, from the state the RST found), then EPIPE.
        if (lab::result("send", send(fd, data.data(), data.size(), flags)) < 0 && errno == EPIPE) break;
    }

    char buf[512];
    lab::result("recv", recv(fd, buf, sizeof buf, 0));  // 0: end of stream
    lab::result("close", close(fd));
}
