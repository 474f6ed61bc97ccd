#include "capture/capture.hpp"

#include "topology/netns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>

namespace socklab {

// ---------------------------------------------------------------------------------------------
// Flags

namespace {

// ECN bits: not in TcpFlag, but they do appear in the flags byte, and tcpdump prints them.
constexpr uint8_t ECE = 0x40, CWR = 0x80;

struct FlagLetter {
    uint8_t bit;
    char letter;
};

// Printing order; ACK's '.' always comes last.
constexpr FlagLetter kFlagLetters[] = {
    {SYN, 'S'}, {FIN, 'F'}, {PSH, 'P'}, {RST, 'R'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}, {ACK, '.'},
};

// tcpdump's word for a segment without any flag.
constexpr const char* kNoFlags = "none";

}  // namespace

std::string flags_text(uint8_t flags) {
    if (flags == 0) return kNoFlags;
    std::string text;
    for (const auto& f : kFlagLetters)
        if (flags & f.bit) text += f.letter;
    return text;
}

std::optional<uint8_t> parse_flags(const std::string& text) {
    if (text == kNoFlags) return 0;
    if (text.empty()) return std::nullopt;
    uint8_t flags = 0;
    for (char c : text) {
        auto f = std::find_if(std::begin(kFlagLetters), std::end(kFlagLetters),
                              [c](const FlagLetter& fl) { return fl.letter == c; });
        // An unknown letter or a repeated one is most likely a typo in an expectation.
        if (f == std::end(kFlagLetters) || (flags & f->bit)) return std::nullopt;
        flags |= f->bit;
    }
    return flags;
}

// ---------------------------------------------------------------------------------------------
// Decoding. Every layer gets a span that ends at caplen and checks its size before reading, so
// no read can go past the captured bytes.

namespace {

using Bytes = std::span<const uint8_t>;

constexpr uint16_t kEtherIPv4 = 0x0800, kEtherIPv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100, kEtherQinQ = 0x88A8;
constexpr size_t kEthHeader = 14, kVlanTag = 4, kMaxVlanTags = 2;
constexpr size_t kSllHeader = 16, kSll2Header = 20;
constexpr size_t kNullHeader = 4;  // DLT_NULL/DLT_LOOP: the protocol family, 4 bytes
constexpr size_t kIPv4MinHeader = 20, kIPv6Header = 40, kTcpMinHeader = 20;
constexpr size_t kMaxIPv6ExtHeaders = 8;

uint16_t be16(Bytes b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }
uint32_t be32(Bytes b, size_t at) { return uint32_t(be16(b, at)) << 16 | be16(b, at + 2); }

std::string address_text(int family, const uint8_t* addr) {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, addr, buf, sizeof buf);
    return buf;
}

// The network-layer packet inside a frame and its EtherType.
struct Network {
    uint16_t ethertype;
    Bytes packet;
};

std::optional<Network> ethernet_payload(Bytes frame) {
    if (frame.size() < kEthHeader) return std::nullopt;
    size_t type_at = 12;
    uint16_t type = be16(frame, type_at);
    // A VLAN tag is 4 bytes inserted before the EtherType: TPID (the "type" we just read), TCI.
    for (size_t tags = 0; (type == kEtherVlan || type == kEtherQinQ) && tags < kMaxVlanTags; ++tags) {
        type_at += kVlanTag;
        if (frame.size() < type_at + 2) return std::nullopt;
        type = be16(frame, type_at);
    }
    return Network{type, frame.subspan(type_at + 2)};
}

// DLT_RAW and friends: no link header, the IP version nibble tells which IP it is.
std::optional<Network> raw_payload(Bytes frame) {
    if (frame.empty()) return std::nullopt;
    switch (frame[0] >> 4) {
        case 4: return Network{kEtherIPv4, frame};
        case 6: return Network{kEtherIPv6, frame};
        default: return std::nullopt;
    }
}

std::optional<Network> link_payload(Bytes frame, int linktype) {
    switch (linktype) {
        case DLT_EN10MB: return ethernet_payload(frame);
        case DLT_LINUX_SLL:  // protocol type in the last 2 of 16 bytes
            if (frame.size() < kSllHeader) return std::nullopt;
            return Network{be16(frame, 14), frame.subspan(kSllHeader)};
        case DLT_LINUX_SLL2:  // protocol type in the first 2 of 20 bytes
            if (frame.size() < kSll2Header) return std::nullopt;
            return Network{be16(frame, 0), frame.subspan(kSll2Header)};
        case DLT_NULL:  // BSD loopback: AF_INET6 differs between systems (10, 24, 28, 30) and
        case DLT_LOOP:  // DLT_NULL is in the writer's byte order, so the IP version nibble decides
            if (frame.size() < kNullHeader) return std::nullopt;
            return raw_payload(frame.subspan(kNullHeader));
        case DLT_RAW:
        case DLT_IPV4:
        case DLT_IPV6: return raw_payload(frame);
        default: return std::nullopt;
    }
}

constexpr int kLinkTypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                              DLT_RAW,    DLT_IPV4,      DLT_IPV6};

// What the IP layer tells the TCP layer: where its header starts and how long the whole TCP
// segment is according to IP (which may be more than was captured).
struct TcpInIp {
    Bytes tcp;
    size_t tcp_len;
};

// IP's length field minus the headers before TCP. A length field of 0 is what Linux leaves in
// TSO/BIG TCP super-packets; then the captured bytes are the best estimate there is.
std::optional<size_t> tcp_length(size_t ip_length, size_t headers, size_t captured_after) {
    if (ip_length == 0) return captured_after;
    if (ip_length < headers) return std::nullopt;
    return ip_length - headers;
}

std::optional<TcpInIp> ipv4_to_tcp(Bytes ip, Segment& seg) {
    if (ip.size() < kIPv4MinHeader || ip[0] >> 4 != 4) return std::nullopt;
    size_t header = size_t(ip[0] & 0x0f) * 4;
    if (header < kIPv4MinHeader || header > ip.size()) return std::nullopt;
    if (ip[9] != IPPROTO_TCP) return std::nullopt;
    // Only the first fragment (offset 0) carries the TCP header.
    if ((be16(ip, 6) & 0x1fff) != 0) return std::nullopt;
    auto tcp_len = tcp_length(be16(ip, 2), header, ip.size() - header);
    if (!tcp_len) return std::nullopt;
    seg.src = address_text(AF_INET, &ip[12]);
    seg.dst = address_text(AF_INET, &ip[16]);
    return TcpInIp{ip.subspan(header), *tcp_len};
}

std::optional<TcpInIp> ipv6_to_tcp(Bytes ip, Segment& seg) {
    if (ip.size() < kIPv6Header || ip[0] >> 4 != 6) return std::nullopt;
    uint8_t next = ip[6];
    size_t at = kIPv6Header;
    // Walk the extension headers that may sit between IPv6 and TCP.
    for (size_t n = 0; next != IPPROTO_TCP; ++n) {
        if (n == kMaxIPv6ExtHeaders || ip.size() < at + 8) return std::nullopt;
        switch (next) {
            case IPPROTO_HOPOPTS:
            case IPPROTO_ROUTING:
            case IPPROTO_DSTOPTS:  // length in 8-byte units, not counting the first 8
                next = ip[at];
                at += (size_t(ip[at + 1]) + 1) * 8;
                break;
            case IPPROTO_FRAGMENT:  // fixed 8 bytes; only offset 0 carries the TCP header
                if ((be16(ip, at + 2) & 0xfff8) != 0) return std::nullopt;
                next = ip[at];
                at += 8;
                break;
            default: return std::nullopt;
        }
    }
    if (at > ip.size()) return std::nullopt;
    // The payload length counts the extension headers as well.
    auto tcp_len = tcp_length(be16(ip, 4), at - kIPv6Header, ip.size() - at);
    if (!tcp_len) return std::nullopt;
    seg.src = address_text(AF_INET6, &ip[8]);
    seg.dst = address_text(AF_INET6, &ip[24]);
    return TcpInIp{ip.subspan(at), *tcp_len};
}

// The window scale option (kind 3), when the options hold one within the captured bytes.
int window_scale(Bytes options) {
    for (size_t at = 0; at < options.size();) {
        const uint8_t kind = options[at];
        if (kind == 0) break;             // end of options
        if (kind == 1) { ++at; continue; }  // no-op padding
        if (at + 1 >= options.size() || options[at + 1] < 2) break;
        if (kind == 3 && options[at + 1] == 3 && at + 2 < options.size()) return std::min<int>(options[at + 2], 14);
        at += options[at + 1];
    }
    return -1;
}

// Only the fixed 20 bytes are required, so options cut off by the snaplen do not lose the segment.
bool decode_tcp(const TcpInIp& in, Segment& seg) {
    Bytes tcp = in.tcp;
    if (tcp.size() < kTcpMinHeader) return false;
    size_t header = size_t(tcp[12] >> 4) * 4;
    if (header < kTcpMinHeader || header > in.tcp_len) return false;
    seg.sport = be16(tcp, 0);
    seg.dport = be16(tcp, 2);
    seg.seq = be32(tcp, 4);
    seg.ack = be32(tcp, 8);
    seg.flags = tcp[13];
    seg.window = be16(tcp, 14);
    seg.len = uint32_t(std::min<size_t>(in.tcp_len - header, UINT32_MAX));
    seg.wscale = window_scale(tcp.subspan(kTcpMinHeader, std::min(header, tcp.size()) - kTcpMinHeader));
    return true;
}

}  // namespace

bool link_type_supported(int linktype) {
    return std::find(std::begin(kLinkTypes), std::end(kLinkTypes), linktype) != std::end(kLinkTypes);
}

std::string link_type_name(int linktype) {
    const char* name = pcap_datalink_val_to_name(linktype);
    return name ? name : "number " + std::to_string(linktype);
}

std::optional<Segment> decode_frame(const uint8_t* data, size_t caplen, int linktype, int64_t time_ns,
                                    size_t wire_len) {
    if (data == nullptr) return std::nullopt;
    auto net = link_payload(Bytes(data, caplen), linktype);
    if (!net) return std::nullopt;
    Segment seg;
    seg.time_ns = time_ns;
    std::optional<TcpInIp> tcp;
    if (net->ethertype == kEtherIPv4) tcp = ipv4_to_tcp(net->packet, seg);
    else if (net->ethertype == kEtherIPv6) tcp = ipv6_to_tcp(net->packet, seg);
    if (!tcp || !decode_tcp(*tcp, seg)) return std::nullopt;
    seg.truncated = wire_len > caplen;
    return seg;
}

std::vector<Relative> relative_numbers(const std::vector<Segment>& segments) {
    struct Direction {
        bool seen = false, syn = false;
        uint32_t isn = 0;
        int wscale = -1;
        uint32_t una = 0;  // highest relative ack received from the other direction
        bool acked = false;
    };
    // Keyed by "src sport dst dport"; the reverse key is the other direction.
    std::map<std::string, Direction> directions;
    const auto key = [](const std::string& a, uint16_t ap, const std::string& b, uint16_t bp) {
        return a + " " + std::to_string(ap) + " " + b + " " + std::to_string(bp);
    };
    std::vector<Relative> out;
    out.reserve(segments.size());
    for (const Segment& s : segments) {
        Direction& d = directions[key(s.src, s.sport, s.dst, s.dport)];
        Direction& peer = directions[key(s.dst, s.dport, s.src, s.sport)];
        if ((s.flags & SYN) && (!d.syn || s.seq != d.isn)) {  // a new connection on the tuple (a copy keeps it)
            d = Direction{true, true, s.seq, s.wscale, 0, false};
            if (!(s.flags & ACK)) peer = Direction{};
        }
        // A capture that began mid-connection: seq relative to the first one seen.
        if (!d.seen) d = Direction{true, false, s.seq, -1, 0, false};
        Relative r;
        r.seq = s.seq - d.isn;
        r.ack = s.ack;  // raw while the other direction is unseen
        if ((s.flags & ACK) && peer.seen) {
            r.ack = s.ack - peer.isn;
            r.ack_relative = true;
            // The peer's una: the acks it receives from us (modular: una only moves forward).
            if (!peer.acked || int32_t(r.ack - peer.una) > 0) peer.una = r.ack;
            peer.acked = true;
        }
        r.una = d.una;
        const bool scaled = !(s.flags & SYN) && d.wscale >= 0 && peer.wscale >= 0;
        r.window = uint64_t(s.window) << (scaled ? d.wscale : 0);
        out.push_back(r);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Reading a file

namespace {

// A record's time in nanoseconds; `ns_per_tick` 1 for nanosecond files, 1000 for microsecond
// ones. A damaged or hostile file's timestamp wraps (unsigned) into [0, 2^62), where any two
// times still subtract without overflow; real ones (before the year 2116) are unchanged.
int64_t time_of(const pcap_pkthdr& header, int64_t ns_per_tick) {
    const uint64_t ns = static_cast<uint64_t>(header.ts.tv_sec) * 1'000'000'000u +
                        static_cast<uint64_t>(header.ts.tv_usec) * static_cast<uint64_t>(ns_per_tick);
    return static_cast<int64_t>(ns & ((uint64_t{1} << 62) - 1));
}

struct PcapClose {
    void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapClose>;

// "<path>: <error>"; libpcap's own message for a failed open already starts with the path.
std::string with_path(const std::string& path, const std::string& error) {
    std::string prefix = path + ": ";
    return error.starts_with(prefix) ? error : prefix + error;
}

constexpr const char* kWhatToGive = "give a file written by tcpdump -w, Wireshark or dumpcap (pcap or pcapng)";

// libpcap's reason for refusing a file, as one sentence that says what to do.
std::string open_error(const std::string& path, const std::string& error) {
    if (error.find("No such file") != std::string::npos || error.find("Permission denied") != std::string::npos ||
        error.find("Is a directory") != std::string::npos)
        return with_path(path, error) + " (name a capture file)";
    // An empty file, or one too short for a file header, is reported as truncated.
    if (error.find("unknown file format") != std::string::npos || error.find("truncated") != std::string::npos ||
        error.find("bad dump file") != std::string::npos || error.find("format") != std::string::npos)
        return path + " is not a pcap or pcapng capture (libpcap: " + error + "): " + kWhatToGive;
    return with_path(path, error) + ": " + kWhatToGive;
}

// Every frame of an open capture to `each`; `name` says which file in messages.
CaptureFileInfo read_frames(pcap_t* file, const std::string& name, const std::function<void(const Segment&)>& each,
                            const std::string& bpf) {
    CaptureFileInfo info;
    info.linktype = pcap_datalink(file);
    if (!link_type_supported(info.linktype))
        throw CaptureFileError(name + " has link type " + link_type_name(info.linktype) +
                               ", which socklab cannot decode (it reads Ethernet, Linux cooked v1 and v2, "
                               "BSD loopback and raw IP): capture on an Ethernet interface or with tcpdump -i any");
    bpf_program program{};
    const bool filtered = !bpf.empty();
    if (filtered && pcap_compile(file, &program, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0)
        throw CaptureFileError("--filter '" + bpf + "' is not a filter libpcap can compile (" + pcap_geterr(file) +
                               "): write it as tcpdump would take it, e.g. 'tcp port 8080'");
    // The program is freed however the loop ends.
    std::unique_ptr<bpf_program, void (*)(bpf_program*)> holder(filtered ? &program : nullptr, pcap_freecode);
    const int64_t ns_per_tick = pcap_get_tstamp_precision(file) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    int rc;
    while ((rc = pcap_next_ex(file, &header, &data)) == 1) {
        if (filtered && pcap_offline_filter(&program, header, data) == 0) continue;
        ++info.frames;
        const int64_t time_ns = time_of(*header, ns_per_tick);
        auto seg = decode_frame(data, header->caplen, info.linktype, time_ns, header->len);
        if (!seg) {
            ++info.undecodable;
            continue;
        }
        ++info.segments;
        if (seg->truncated) ++info.truncated;
        each(*seg);
    }
    // A damaged file (e.g. a cut-off last record) must not pass for a shorter capture.
    if (rc != PCAP_ERROR_BREAK) {
        const std::string error = pcap_geterr(file);
        if (error.find("truncated") != std::string::npos)
            throw CaptureFileError(name + " is cut off after " + std::to_string(info.frames) +
                                   " packets (libpcap: " + error +
                                   "): copy the whole file again, or stop the capture before reading it");
        throw CaptureFileError(with_path(name, error) + ": " + kWhatToGive);
    }
    return info;
}

std::vector<Segment> collect(pcap_t* file, const std::string& name) {
    std::vector<Segment> segments;
    read_frames(file, name, [&](const Segment& s) { segments.push_back(s); }, "");
    return segments;
}

}  // namespace

CaptureFileInfo read_capture(const std::string& path, const std::function<void(const Segment&)>& each,
                             const std::string& bpf) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // Nanosecond precision: libpcap scales microsecond files up, so time_ns is right for both.
    PcapHandle file(pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
    if (!file) throw CaptureFileError(open_error(path, errbuf));
    return read_frames(file.get(), path, each, bpf);
}

std::vector<Segment> read_pcap(const std::string& path) {
    std::vector<Segment> segments;
    read_capture(path, [&](const Segment& s) { segments.push_back(s); });
    return segments;
}

std::vector<Segment> read_pcap_memory(const uint8_t* data, size_t size) {
    // fmemopen cannot open an empty buffer; an empty file is not a pcap file either.
    if (size == 0) throw CaptureFileError(with_path("(memory)", "empty"));
    FILE* stream = ::fmemopen(const_cast<uint8_t*>(data), size, "rb");
    if (!stream) throw CaptureFileError(with_path("(memory)", "fmemopen failed"));
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // On success the handle owns the stream and closes it; on failure we still do.
    PcapHandle file(pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, errbuf));
    if (!file) {
        std::fclose(stream);
        throw CaptureFileError(open_error("(memory)", errbuf));
    }
    return collect(file.get(), "(memory)");
}

// ---------------------------------------------------------------------------------------------
// Live capture

namespace {

constexpr int kSnaplen = 262144;
constexpr int kTimeoutMs = 10;      // pcap's buffer timeout; immediate mode makes it moot
// The packet ring. libpcap's default, 2 MiB, holds only 32 frames on a veth (each slot is sized
// for a 64 KiB offloaded frame): a burst of handshakes while the capture thread waits for a core
// overflowed it. 16 MiB holds 256, twice the largest whole run (reuseport/spread: 114 frames in
// each of 2,130 runs looked at), so even a thread that never got a core until stop() loses
// nothing; an overflow fails the run ("the capture ring overflowed"). Larger costs set-up time
// (the kernel zeroes the ring: 0.2 s for 32 MiB under emulation).
constexpr int kBufferBytes = 16 << 20;

}  // namespace

struct Capture::Impl {
    std::string where;  // "interface X in namespace Y", for messages
    pcap_t* handle = nullptr;
    pcap_dumper_t* dumper = nullptr;
    std::thread thread;
    int wake_fd = -1;  // eventfd: stop() tells the thread at once instead of waiting for a timeout
    uint64_t dropped = 0;  // frames the kernel could not put in the ring (pcap_stats), at stop()
    int linktype = DLT_EN10MB;
    int64_t ns_per_tick = 1;  // 1000 if the platform could only give microsecond timestamps
    mutable std::mutex live_mutex;
    std::vector<Segment> live;  // what has been written, decoded

    ~Impl() {
        close();
        if (wake_fd >= 0) ::close(wake_fd);
    }

    // libpcap 1.10 puts the status text in geterr when it has nothing more specific to say.
    [[noreturn]] void fail_activate(int status) const {
        std::string detail = pcap_geterr(handle);
        if (detail.empty()) detail = pcap_statustostr(status);
        throw std::runtime_error("cannot capture on " + where + ": " + detail);
    }

    static void on_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
        auto* self = reinterpret_cast<Impl*>(user);
        pcap_dump(reinterpret_cast<u_char*>(self->dumper), header, bytes);
        const int64_t time_ns = time_of(*header, self->ns_per_tick);
        if (auto seg = decode_frame(bytes, header->caplen, self->linktype, time_ns)) {
            std::lock_guard<std::mutex> lock(self->live_mutex);
            self->live.push_back(*seg);
        }
    }

    // Hands every packet the ring holds right now to on_packet; never blocks (nonblocking mode).
    int dispatch() { return pcap_dispatch(handle, -1, on_packet, reinterpret_cast<u_char*>(this)); }

    // No pcap_breakloop needed: dispatch never blocks, and stop() wakes the poll.
    void run() {
        pollfd pfd[2] = {{pcap_get_selectable_fd(handle), POLLIN, 0}, {wake_fd, POLLIN, 0}};
        for (;;) {
            if (::poll(pfd, 2, -1) < 0 && errno != EINTR) break;
            if (pfd[1].revents) break;  // stop() drains what is left itself
            if (dispatch() < 0) break;  // e.g. the interface was deleted: nothing more to get
        }
    }

    void close_file() {
        if (dumper) pcap_dump_close(dumper);
        dumper = nullptr;
    }

    void close() {
        close_file();
        if (handle) pcap_close(handle);  // slow: the kernel waits out an RCU grace period
        handle = nullptr;
    }
};

Capture::Capture(const std::string& netns, const std::string& ifname, const std::string& path)
    : impl_(std::make_unique<Impl>()) {
    Impl& c = *impl_;
    c.where = "interface " + ifname + " in namespace " + netns;
    {
        // The packet socket is created by pcap_activate and stays in this namespace for good.
        std::optional<NetnsEnter> inside;  // optional only to add the interface to its error
        try {
            inside.emplace(netns);
        } catch (const std::exception& e) {
            throw std::runtime_error("cannot capture on " + c.where + ": " + e.what());
        }
        char errbuf[PCAP_ERRBUF_SIZE] = {};
        c.handle = pcap_create(ifname.c_str(), errbuf);
        if (!c.handle) throw std::runtime_error("cannot capture on " + c.where + ": " + errbuf);
        pcap_set_snaplen(c.handle, kSnaplen);
        pcap_set_timeout(c.handle, kTimeoutMs);
        pcap_set_buffer_size(c.handle, kBufferBytes);
        // Immediate mode hands each frame over at once (TPACKET_V2) instead of in blocks that
        // wait for a timeout, which is also what lets stop() drain the very last packets.
        pcap_set_immediate_mode(c.handle, 1);
        // Ask for nanosecond timestamps (the file then uses the nanosecond format); if the
        // platform cannot, microseconds will do.
        (void)pcap_set_tstamp_precision(c.handle, PCAP_TSTAMP_PRECISION_NANO);
        int rc = pcap_activate(c.handle);
        if (rc < 0) c.fail_activate(rc);
    }
    // Nonblocking dispatch lets both the thread and the final drain return when the ring is empty.
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    if (pcap_setnonblock(c.handle, 1, errbuf) < 0)
        throw std::runtime_error("cannot capture on " + c.where + ": " + errbuf);
    c.linktype = pcap_datalink(c.handle);
    c.ns_per_tick = pcap_get_tstamp_precision(c.handle) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    c.dumper = pcap_dump_open(c.handle, path.c_str());
    if (!c.dumper)
        throw std::runtime_error("cannot write the capture on " + c.where + ": " + pcap_geterr(c.handle));
    c.wake_fd = ::eventfd(0, EFD_CLOEXEC);
    if (c.wake_fd < 0) throw std::runtime_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
    c.thread = std::thread([&c] { c.run(); });
}

Capture::~Capture() {
    stop();
    impl_->close();
}

void Capture::stop() {
    Impl& c = *impl_;
    if (!c.dumper) return;  // already stopped
    if (c.thread.joinable()) {
        const uint64_t one = 1;
        if (::write(c.wake_fd, &one, sizeof one) != sizeof one) std::abort();  // an eventfd write cannot fail here
        c.thread.join();
    }
    // What arrived between the thread's last dispatch and now is still in the ring.
    while (c.dispatch() > 0) {
    }
    pcap_stat stats{};
    if (pcap_stats(c.handle, &stats) == 0) c.dropped = stats.ps_drop;
    c.close_file();  // the pcap is complete; the packet socket is closed with the Capture
}

uint64_t Capture::dropped() const { return impl_->dropped; }

std::vector<Segment> Capture::segments_so_far() const {
    std::lock_guard<std::mutex> lock(impl_->live_mutex);
    return impl_->live;
}

}  // namespace socklab
