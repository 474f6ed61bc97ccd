// reuseport client: opens connections one after another (each from a new ephemeral port, so each
// has a 4-tuple of its own), then, when told, reads each once without blocking: -1 EAGAIN on a
// live connection with nothing to read, -1 ECONNRESET on one the server reset.
//
//   client --addr 198.18.0.2 --port 8080 --connections 16
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --connections N");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    std::vector<int> fds;

    for (int i = 0; i < args.number("connections", 16); ++i) {
        int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
        lab::result("connect", connect(fd, server.sa(), server.len));  // the handshake ends inside it
        fds.push_back(fd);
    }

    lab::step("read");
    char byte;
    for (int fd : fds) lab::result("recv", recv(fd, &byte, 1, MSG_DONTWAIT));

    lab::step("close");
    for (int fd : fds) lab::result("close", close(fd));
}
