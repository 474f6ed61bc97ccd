// The tests' own client and server for the ladder check (tests/ladder-check.sh): one connection
// that ends the way `--mode` says, so that a capture of it can be drawn and its inferred states
// compared with what sock_diag (ss) saw.
//   peer server --addr A --port P --mode normal|rst|simclose|rst_read [--go FILE] [--count N]
//   peer client --addr A --port P --mode normal|rst|simclose|rst_read|synrtx [--go FILE]
// normal: the client sends and closes first, the server reads to EOF and closes.
// rst: the server closes with the client's data unread (an RST); rst_read: the same but it reads
// the data first (so it sends a FIN and closes first: the mutation the check must catch). simclose: both close once FILE exists.
// synrtx: the client connects to a port whose SYNs are dropped (it is killed in SYN_SENT).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

struct Address {
    sockaddr_storage ss{};
    socklen_t len = 0;
};

Address address(const std::string& text, int port) {
    Address a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET, v4->sin_port = htons(uint16_t(port)), a.len = sizeof *v4;
    } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6, v6->sin6_port = htons(uint16_t(port)), a.len = sizeof *v6;
    } else {
        std::fprintf(stderr, "peer: bad address %s\n", text.c_str());
        std::exit(2);
    }
    return a;
}

// Waits (polling a file, no timing) until the script says go.
void wait_for(const std::string& file) {
    if (file.empty()) return;
    while (access(file.c_str(), F_OK) != 0) usleep(5000);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    const std::string role = argv[1];
    std::string addr, mode, go;
    int port = 0, count = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--addr") addr = argv[i + 1];
        else if (flag == "--port") port = std::atoi(argv[i + 1]);
        else if (flag == "--mode") mode = argv[i + 1];
        else if (flag == "--go") go = argv[i + 1];
        else if (flag == "--count") count = std::atoi(argv[i + 1]);
    }
    const Address a = address(addr, port);
    const int fd = socket(a.ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    char buf[4096];
    if (role == "server") {
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0) die("bind");
        if (listen(fd, 4) < 0) die("listen");
        std::printf("listening\n");
        std::fflush(stdout);
        for (int n = 1; n < count; ++n) {  // the connections before the last, each a normal close
            const int c = accept(fd, nullptr, nullptr);
            if (c < 0) die("accept");
            while (read(c, buf, sizeof buf) > 0) {
            }
            close(c);
        }
        const int c = accept(fd, nullptr, nullptr);
        if (c < 0) die("accept");
        close(fd);
        if (mode == "normal") {
            while (read(c, buf, sizeof buf) > 0) {
            }
        } else if (mode == "rst" || mode == "rst_read") {
            pollfd p{c, POLLIN, 0};
            poll(&p, 1, -1);  // the client's data is here
            if (mode == "rst_read" && read(c, buf, sizeof buf) < 0) die("read");  // nothing left unread
        } else if (mode == "simclose") {
            wait_for(go);
        }
        close(c);
        return 0;
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0) die("connect");
    if (mode == "normal") {
        if (write(fd, "hello\n", 6) != 6) die("write");
    } else if (mode == "rst" || mode == "rst_read") {
        if (write(fd, "unread\n", 7) != 7) die("write");
        while (read(fd, buf, sizeof buf) > 0) {  // until the server's RST (or FIN)
        }
    } else if (mode == "simclose") {
        wait_for(go);
    }
    close(fd);
    return 0;
}
