#include "observation/tracefs.hpp"

#include "topology/owner.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

namespace socklab {

namespace {

constexpr const char* kDefaultRoot = "/sys/kernel/tracing";

// "subsystem/event" paths under events/, the five events a session records.
constexpr const char* kEvents[] = {
    "sock/inet_sock_set_state", "tcp/tcp_retransmit_synack", "tcp/tcp_retransmit_skb",
    "tcp/tcp_send_reset",       "tcp/tcp_receive_reset",
};

// ---------------------------------------------------------------------------------------------
// Parsing one line of trace_pipe
// ---------------------------------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_'; }

// "seconds.fraction" (the fraction has 6 digits with trace_clock mono) as nanoseconds.
std::optional<int64_t> parse_timestamp(std::string_view text) {
    const size_t dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    const std::string_view secs_text = text.substr(0, dot);
    const std::string_view frac_text = text.substr(dot + 1);
    if (frac_text.empty() || frac_text.size() > 9) return std::nullopt;
    for (char c : secs_text) if (!is_digit(c)) return std::nullopt;
    for (char c : frac_text) if (!is_digit(c)) return std::nullopt;

    int64_t secs = 0;
    auto [end, ec] = std::from_chars(secs_text.data(), secs_text.data() + secs_text.size(), secs);
    if (ec != std::errc() || secs > INT64_MAX / 1'000'000'000 - 1) return std::nullopt;
    int64_t frac_ns = 0;
    for (size_t i = 0; i < 9; ++i) frac_ns = frac_ns * 10 + (i < frac_text.size() ? frac_text[i] - '0' : 0);
    return secs * 1'000'000'000 + frac_ns;
}

// The part of a line after the task/CPU/flags columns: "<timestamp>: <event>: <fields>".
struct EventText {
    int64_t time_ns;
    std::string_view name;
    std::string_view fields;
};

// The task name (comm) may hold spaces, dashes or colons, so rather than counting columns we look
// for the first ": " that has a timestamp token before it and "<event name>:" after it.
std::optional<EventText> split_event(std::string_view line) {
    for (size_t colon = line.find(": "); colon != std::string_view::npos; colon = line.find(": ", colon + 1)) {
        const size_t stamp_start = line.find_last_of(' ', colon) + 1;  // npos + 1 == 0
        auto time_ns = parse_timestamp(line.substr(stamp_start, colon - stamp_start));
        if (!time_ns) continue;

        const size_t name_start = colon + 2;
        size_t name_end = name_start;
        while (name_end < line.size() && is_name_char(line[name_end])) ++name_end;
        if (name_end == name_start || name_end >= line.size() || line[name_end] != ':') continue;

        std::string_view fields = line.substr(name_end + 1);
        if (!fields.empty() && fields.front() == ' ') fields.remove_prefix(1);
        return EventText{*time_ns, line.substr(name_start, name_end - name_start), fields};
    }
    return std::nullopt;
}

// "key=value key=value ..." as a map; values of these events never contain spaces.
using Fields = std::map<std::string_view, std::string_view>;

Fields split_fields(std::string_view text) {
    Fields fields;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view word = text.substr(pos, end - pos);
        const size_t eq = word.find('=');
        if (eq != std::string_view::npos && eq > 0) fields.emplace(word.substr(0, eq), word.substr(eq + 1));
        pos = end + 1;
    }
    return fields;
}

std::optional<std::string_view> field(const Fields& fields, std::string_view key) {
    auto it = fields.find(key);
    if (it == fields.end()) return std::nullopt;
    return it->second;
}

std::optional<uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(text.data(), last, value);
    if (text.empty() || ec != std::errc() || end != last || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

// Accepts only real addresses, so that garbage never reaches the caller as an address.
bool is_address(int family, std::string_view text) {
    if (text.size() >= INET6_ADDRSTRLEN) return false;
    const std::string copy(text);
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(family, copy.c_str(), buf) == 1;
}

// "TCP_SYN_SENT" -> "SYN_SENT"; other words ("UNKNOWN") unchanged.
std::string state_without_prefix(std::string_view state) {
    if (state.substr(0, 4) == "TCP_") state.remove_prefix(4);
    return std::string(state);
}

// The common family/sport/dport/saddr/daddr fields. IPv6 sockets carry placeholder values in the
// IPv4 fields (e.g. saddr=127.0.0.6 for ::1), so for AF_INET6 only saddrv6/daddrv6 are meaningful.
bool fill_addresses(const Fields& fields, TraceEvent& ev) {
    auto family = field(fields, "family");
    if (!family) return false;
    int af = 0;
    std::string_view skey, dkey;
    if (*family == "AF_INET") {
        af = AF_INET, skey = "saddr", dkey = "daddr";
    } else if (*family == "AF_INET6") {
        af = AF_INET6, skey = "saddrv6", dkey = "daddrv6";
    } else {
        return false;
    }
    auto saddr = field(fields, skey), daddr = field(fields, dkey);
    auto sport = field(fields, "sport"), dport = field(fields, "dport");
    if (!saddr || !daddr || !sport || !dport) return false;
    if (!is_address(af, *saddr) || !is_address(af, *daddr)) return false;
    auto sp = parse_port(*sport), dp = parse_port(*dport);
    if (!sp || !dp) return false;
    ev.saddr = *saddr, ev.daddr = *daddr, ev.sport = *sp, ev.dport = *dp;
    return true;
}

// "1.2.3.4:80" or "[::1]:80" (tcp_send_reset prints socket addresses with %pISpc).
bool parse_endpoint(std::string_view text, std::string& address, uint16_t& port) {
    std::string_view addr_text, port_text;
    int af = AF_INET;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find("]:");
        if (close == std::string_view::npos) return false;
        addr_text = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        af = AF_INET6;
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return false;
        addr_text = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    auto p = parse_port(port_text);
    if (!p || !is_address(af, addr_text)) return false;
    address = addr_text;
    port = *p;
    return true;
}

bool fill_set_state(const Fields& fields, TraceEvent& ev) {
    // The same tracepoint fires for SCTP and MPTCP sockets; their states are not TCP states.
    if (field(fields, "protocol") != "IPPROTO_TCP") return false;
    auto oldstate = field(fields, "oldstate"), newstate = field(fields, "newstate");
    if (!oldstate || !newstate || oldstate->empty() || newstate->empty()) return false;
    ev.oldstate = state_without_prefix(*oldstate);
    ev.newstate = state_without_prefix(*newstate);
    return fill_addresses(fields, ev);
}

bool fill_retransmit_skb(const Fields& fields, TraceEvent& ev) {
    auto state = field(fields, "state");
    if (!state || state->empty()) return false;
    ev.state = state_without_prefix(*state);
    return fill_addresses(fields, ev);
}

// src= is the RST's sender, which is the local side: the socket, or for a reset answering a
// segment that found no socket, the address that segment was sent to.
bool fill_send_reset(const Fields& fields, TraceEvent& ev) {
    auto src = field(fields, "src"), dest = field(fields, "dest"), state = field(fields, "state");
    // Older kernels (6.1) print it as the other sk/skb events: family, sport, dport, saddr, daddr,
    // state (always a socket's: tcp_send_active_reset() and resets sent by a full socket).
    if (!src && !dest) return fill_retransmit_skb(fields, ev);
    if (!src || !dest || !state || state->empty()) return false;
    ev.state = state_without_prefix(*state);  // "UNKNOWN" when no socket was involved
    if (auto reason = field(fields, "reason")) ev.reason = *reason;  // sk_rst_reason, since 6.10
    return parse_endpoint(*src, ev.saddr, ev.sport) && parse_endpoint(*dest, ev.daddr, ev.dport);
}

// ---------------------------------------------------------------------------------------------
// Files of tracefs
// ---------------------------------------------------------------------------------------------

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void write_control(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno) + ".");
    const ssize_t n = ::write(fd, text.data(), text.size());
    const int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("cannot write \"" + text + "\" to " + path + ": " +
                                 (n < 0 ? std::strerror(err) : "short write") + ".");
}

// Best effort: used while tearing down, where there is nobody left to report to.
void try_write_control(const std::string& path, const std::string& text) {
    try {
        write_control(path, text);
    } catch (const std::exception&) {
    }
}

// Stops tracing in an instance and removes it. rmdir fails with EBUSY while some reader still
// has its trace_pipe open (ours may take a moment to let go), so retry for a short while.
bool remove_instance(const std::string& dir) {
    try_write_control(dir + "/tracing_on", "0");
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        if (errno != EBUSY) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// An event that is ours when either end of the connection is one of `addresses`. A dual-stack
// socket reports an IPv4 peer as "::ffff:a.b.c.d", which also counts as a.b.c.d.
bool is_ours(const std::set<std::string>& addresses, const std::string& address) {
    if (addresses.count(address)) return true;
    constexpr std::string_view mapped = "::ffff:";
    return address.size() > mapped.size() && address.compare(0, mapped.size(), mapped) == 0 &&
           addresses.count(address.substr(mapped.size()));
}

}  // namespace

std::optional<TraceEvent> parse_trace_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    auto text = split_event(line);
    if (!text) return std::nullopt;

    const Fields fields = split_fields(text->fields);
    TraceEvent ev;
    ev.time_ns = text->time_ns;
    ev.name = text->name;

    bool ok = false;
    if (ev.name == "inet_sock_set_state")
        ok = fill_set_state(fields, ev);
    else if (ev.name == "tcp_retransmit_skb")
        ok = fill_retransmit_skb(fields, ev);
    else if (ev.name == "tcp_send_reset")
        ok = fill_send_reset(fields, ev);
    else if (ev.name == "tcp_retransmit_synack" || ev.name == "tcp_receive_reset")
        ok = fill_addresses(fields, ev);
    if (!ok) return std::nullopt;
    return ev;
}

std::optional<std::string> tracefs_root(std::string& why) {
    const std::string root = kDefaultRoot;
    // "instances" exists only where tracefs itself is mounted, not on the empty mount point.
    if (is_directory(root + "/instances")) return root;
    if (::mount("nodev", root.c_str(), "tracefs", 0, nullptr) != 0) {
        why = std::string("tracefs is not mounted and cannot be mounted here (") + std::strerror(errno) +
              "): run as root, or mount -t tracefs nodev " + root + ".";
        return std::nullopt;
    }
    if (!is_directory(root + "/instances")) {
        why = "tracefs is mounted at " + root + " but has no instances directory: the kernel is too old.";
        return std::nullopt;
    }
    return root;
}

TraceSession::TraceSession(const std::string& root, const std::string& name, std::set<std::string> addresses, bool keep)
    : dir_(root + "/instances/" + name), keep_(keep), addresses_(std::move(addresses)) {
    const bool made = ::mkdir(dir_.c_str(), 0755) == 0;
    if (!made && !(keep && errno == EEXIST))
        throw std::runtime_error("cannot create the trace instance " + dir_ + ": " + std::strerror(errno) + ".");
    try {
        if (!made) {  // reused: nothing of the run before it
            write_control(dir_ + "/tracing_on", "0");
            write_control(dir_ + "/trace", "");
        }
        write_control(dir_ + "/trace_clock", "mono");
        // A kernel-side filter keeps SCTP/MPTCP transitions out of the buffer. It is only an
        // optimisation (the parser checks the protocol too), so a kernel that rejects it is fine.
        try_write_control(dir_ + "/events/sock/inet_sock_set_state/filter", "protocol==6");
        for (const char* event : kEvents) write_control(dir_ + "/events/" + event + "/enable", "1");
        fd_ = ::open((dir_ + "/trace_pipe").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open " + dir_ + "/trace_pipe: " + std::strerror(errno) + ".");
        write_control(dir_ + "/tracing_on", "1");
    } catch (...) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        if (!keep_) remove_instance(dir_);
        throw;
    }
}

TraceSession::~TraceSession() {
    if (keep_) try_write_control(dir_ + "/tracing_on", "0");
    close_pipe();
    if (!keep_) remove_instance(dir_);
}

void TraceSession::close_pipe() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void remove_trace_instance(const std::string& root, const std::string& name) { remove_instance(root + "/instances/" + name); }

std::vector<TraceEvent> TraceSession::read_available() {
    std::vector<TraceEvent> events;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) throw std::runtime_error("cannot read " + dir_ + "/trace_pipe: " + std::strerror(errno) + ".");
        if (n == 0) break;
        partial_.append(buf, static_cast<size_t>(n));

        // Whole lines are parsed; a line cut by the end of this read waits in partial_.
        size_t start = 0;
        for (size_t nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
            auto ev = parse_trace_line(std::string_view(partial_).substr(start, nl - start));
            if (ev && (is_ours(addresses_, ev->saddr) || is_ours(addresses_, ev->daddr)))
                events.push_back(std::move(*ev));
            start = nl + 1;
        }
        partial_.erase(0, start);
    }
    return events;
}

void sweep_trace_instances(const std::string& root, const std::string& prefix) {
    const std::string instances = root + "/instances";
    DIR* dir = ::opendir(instances.c_str());
    if (!dir) return;  // no tracefs, nothing to sweep
    std::vector<std::string> stale;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.rfind(prefix, 0) == 0 && is_stale(name)) stale.push_back(name);
    }
    ::closedir(dir);
    // Removed after the listing so the directory is not changed under readdir.
    for (const auto& name : stale) remove_instance(instances + "/" + name);
}

}  // namespace socklab
