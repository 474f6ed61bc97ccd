// nagle_delayed_ack server: answers each request of 2 x bytes with one reply of `bytes` as soon as
// the whole request is in, then closes after the last one. Its kernel decides when to ACK.
//
//   server --addr 198.18.0.2 --port 8080 --rounds 4 --bytes 10 [--quickack 0|1]
//   --quickack 1: TCP_QUICKACK before every recv() (the kernel clears it again: it is not sticky)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --rounds N --bytes N [--quickack 0|1]");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int rounds = args.number("rounds", 4);
    const long bytes = args.number("bytes", 10);
    const int quickack = args.number("quickack", 0);
    const std::string reply(static_cast<size_t>(bytes), 'y');

    // The kernel's rule has a clock in it: a reply counts as interactive only within ato (40 ms)
    // of the request. Real-time priority keeps a busy machine from delaying our reply past that.
    const sched_param rt{1};
    lab::result("sched_setscheduler", sched_setscheduler(0, SCHED_FIFO, &rt));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");
    int fd = lab::result("accept", accept(listener, nullptr, nullptr));

    char request[4096];
    for (int round = 1; round <= rounds; ++round) {
        for (long got = 0; got < 2 * bytes;) {
            if (quickack)  // leave delayed-ACK (pingpong) mode now; the next reply re-enters it
                lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &quickack, sizeof quickack));
            const long n = lab::result("recv", recv(fd, request, sizeof request, 0));
            if (n <= 0) return 1;
            got += n;
        }
        lab::result("send", send(fd, reply.data(), reply.size(), 0));  // the reply, within ato of the request
    }
    lab::result("close", close(fd));
    lab::result("close", close(listener));
}
