// keepalive server: accepts one connection, may read the client's request, and then does nothing
// until released (or killed: the harness may SIGKILL it, and its kernel closes what it held).
//
//   server --addr 198.18.0.2 --port 8080 [--bytes N (read that many first; 0: read nothing)]
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N [--bytes N]");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    std::vector<char> request(static_cast<size_t>(args.number("bytes", 0)));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");

    int conn = lab::result("accept", accept(listener, nullptr, nullptr));
    if (!request.empty()) lab::result("recv", recv(conn, request.data(), request.size(), MSG_WAITALL));

    lab::step("close");  // the harness silences or kills the server here
    lab::result("close", close(conn));
    lab::result("close", close(listener));
}
