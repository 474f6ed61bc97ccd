// so_reuseaddr server: accepts one connection and closes first, or hands the connection to a
// forked child, then tries to bind() the same address and port again, first without and then with
// SO_REUSEADDR; with a child, once more after the child has exited.
//
//   server --addr 198.18.0.2 --port 8080 --reuse 0|1 --fork 0|1|2
//     --reuse 1   the first listener sets SO_REUSEADDR before its bind()
//     --fork 1    a child keeps the accepted connection and closes its copy of the listener
//     --fork 2    a child keeps the accepted connection and the listener
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "program/lab.hpp"

// A fresh socket bound to the same address, with or without SO_REUSEADDR; closed again at once.
static void bind_again(const lab::Address& addr, int reuse) {
    int fd = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    if (reuse) lab::result("setsockopt", setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse));
    lab::result("bind", bind(fd, addr.sa(), addr.len));
    lab::result("close", close(fd));
}

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --reuse 0|1 --fork 0|1|2");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int reuse = args.number("reuse", 1), forked = args.number("fork", 0);

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    if (reuse) lab::result("setsockopt", setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 5));
    lab::mark("listening");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    pid_t child = 0;
    if (forked) {
        child = lab::result("fork", fork());
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the harness, whatever happens
            lab::role("child");
            if (forked == 1) lab::result("close", close(listener));
            lab::mark("child_ready");  // the harness looks at the port only after this
            char buf[16];
            lab::result("recv", recv(conn, buf, sizeof buf, 0));  // 0 once the client closes (no step here:
            lab::result("close", close(conn));                    // only the parent reads the harness's steps)
            std::exit(0);
        }
    }
    lab::result("close", close(conn));      // without a child: the active close, FIN_WAIT -> TIME_WAIT
    lab::result("close", close(listener));  // with a child: the child still holds the port

    lab::step("bind");  // the harness has looked at what holds the port
    bind_again(addr, 0);
    lab::mark("reuse");  // the same once more, now with SO_REUSEADDR
    bind_again(addr, 1);
    if (forked) {
        lab::mark("waiting");
        int status = 0;
        lab::result("waitpid", waitpid(child, &status, 0));  // the child exits when the client closes
        bind_again(addr, 1);
    }
}
