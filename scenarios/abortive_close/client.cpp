// abortive_close client: connects, optionally sends a few bytes, then sets SO_LINGER and close()s.
// With {on, 0} close() resets the connection at once; with {on, N} it waits up to N seconds for
// the FIN to be acknowledged, and returns either way.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 0 --linger 0
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N --linger SECONDS");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const std::string data(static_cast<size_t>(args.number("bytes", 0)), 'x');
    const linger lin{1, args.number("linger", 0)};  // l_onoff, l_linger (seconds)

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));

    lab::step("close");
    if (!data.empty()) lab::result("send", send(fd, data.data(), data.size(), 0));  // into the send buffer
    lab::result("setsockopt", setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin));
    lab::result("close", close(fd));  // {on, 0}: RST now; {on, N}: blocks until the FIN is ACKed or N s
}
