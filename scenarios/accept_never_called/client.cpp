// accept_never_called client: connect, send a few bytes, close. It never learns that the server
// has not accept()ed the connection: the kernel answered everything on the server's behalf.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 100
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    std::vector<char> data(static_cast<size_t>(args.number("bytes", 100)), 'x');

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));
    lab::result("send", send(fd, data.data(), data.size(), 0));
    lab::result("close", close(fd));  // FIN; the socket lives on in FIN_WAIT2 without us
}
