// close_vs_shutdown client: connects, looks without blocking for what the server's child did,
// then reads the parent's data (--reply 0) or, the server being half-closed, sends a reply
// (--reply 1), and finally reads the end of file and closes.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 5 [--reply 1]
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N [--reply 0|1]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const std::string data(static_cast<size_t>(args.number("bytes", 5)), 'x');
    char buf[512];

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));

    lab::step("peek");
    // -1 EAGAIN: neither data nor end of file yet; 0: the server's FIN has arrived.
    lab::result("recv", recv(fd, buf, sizeof buf, MSG_DONTWAIT));

    if (args.number("reply", 0)) {
        lab::step("reply");
        lab::result("send", send(fd, data.data(), data.size(), 0));
    } else {
        lab::step("read");
        lab::result("recv", recv(fd, buf, sizeof buf, 0));
    }

    lab::step("close");
    lab::result("recv", recv(fd, buf, sizeof buf, 0));  // 0: end of file
    lab::result("close", close(fd));
}
