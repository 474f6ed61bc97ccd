// connect_refused client: one blocking connect() to a port where nobody will talk to it. The
// kernel's answer decides how it ends: a RST (ECONNREFUSED at once), an ICMP error (its errno at
// once), or silence (the SYN retransmits, then ETIMEDOUT).
//
//   client --addr 198.18.0.2 --port 8080
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));  // SYN_SENT until the answer (or the timeout)
    lab::result("close", close(fd));
}
