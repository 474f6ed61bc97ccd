// close_vs_shutdown server: accepts one connection and forks, so that parent and child share it
// (one socket, two descriptors). The child ends its part with close(), or with --shutdown 1 with
// shutdown(SHUT_WR), and exits; the parent then sends, and with --shutdown 1 reads the client's reply.
//
//   server --addr 198.18.0.2 --port 8080 --bytes 5 [--shutdown 1]
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N [--shutdown 0|1]");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const std::string data(static_cast<size_t>(args.number("bytes", 5)), 'x');
    const bool use_shutdown = args.number("shutdown", 0) != 0;

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    pid_t child = fork();
    if (child == 0) lab::role("child");
    lab::result("fork", child);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the parent, whatever happens
        lab::result("close", close(listener));
        lab::step("child");  // the parent waits in waitpid(): only the child reads a step now
        if (use_shutdown)
            lab::result("shutdown", shutdown(conn, SHUT_WR));  // acts on the socket, not the descriptor
        lab::result("close", close(conn));  // one descriptor of two: the socket stays open
        _exit(0);
    }
    lab::result("waitpid", waitpid(child, nullptr, 0));

    lab::step("send");
    // MSG_NOSIGNAL: a send() on a socket shut for writing reports EPIPE without killing the parent.
    lab::result("send", send(conn, data.data(), data.size(), MSG_NOSIGNAL));
    if (use_shutdown) {
        lab::step("read");
        char buf[512];
        lab::result("recv", recv(conn, buf, sizeof buf, 0));  // the client's reply
        lab::result("recv", recv(conn, buf, sizeof buf, 0));  // 0 once the client's FIN arrives
    } else {
        lab::step("close");
    }
    lab::result("close", close(conn));  // the last descriptor
    lab::result("close", close(listener));
}
