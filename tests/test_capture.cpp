// Unit tests of the capture module's pure parts: flag notation, frame decoding, pcap reading.
// Frames are built by hand, byte by byte, so every expected value is known independently.
#include "capture/capture.hpp"

#include <catch2/catch.hpp>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace socklab;

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = uint8_t(v >> 8);
    b[at + 1] = uint8_t(v);
}
void put32(Bytes& b, size_t at, uint32_t v) {
    put16(b, at, uint16_t(v >> 16));
    put16(b, at + 2, uint16_t(v));
}
Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The segment the frame builders below describe.
struct Tcp {
    uint16_t sport = 40001, dport = 8080;
    uint32_t seq = 3000000001u, ack = 0x89ABCDEFu;  // above INT32_MAX: catches sign mistakes
    uint8_t flags = PSH | ACK;
    uint16_t window = 0xFFEE;
    size_t payload = 100;
    size_t options = 0;  // bytes of TCP options, a multiple of 4
};

Bytes tcp_segment(const Tcp& t) {
    Bytes b(20 + t.options + t.payload, 0);
    put16(b, 0, t.sport);
    put16(b, 2, t.dport);
    put32(b, 4, t.seq);
    put32(b, 8, t.ack);
    b[12] = uint8_t((20 + t.options) / 4 << 4);
    b[13] = t.flags;
    put16(b, 14, t.window);
    for (size_t i = 0; i < t.options; ++i) b[20 + i] = 1;  // NOP
    for (size_t i = 0; i < t.payload; ++i) b[20 + t.options + i] = uint8_t('a' + i % 26);
    return b;
}

// 198.18.0.1 -> 198.18.0.2 with `options` bytes of IP options (NOPs).
Bytes ipv4_packet(uint8_t proto, const Bytes& payload, size_t options = 0, uint16_t frag = 0) {
    size_t header = 20 + options;
    Bytes b(header, 0);
    b[0] = uint8_t(0x40 | header / 4);
    put16(b, 2, uint16_t(header + payload.size()));
    put16(b, 6, frag);
    b[8] = 64;
    b[9] = proto;
    const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
    std::copy(src, src + 4, b.begin() + 12);
    std::copy(dst, dst + 4, b.begin() + 16);
    for (size_t i = 20; i < header; ++i) b[i] = 1;  // NOP option
    return concat(b, payload);
}

// 2001:db8::1 -> 2001:db8::2; `ext` is the extension header chain, already linked up, and
// `first_next` the Next Header value of the fixed header.
Bytes ipv6_packet(uint8_t first_next, const Bytes& ext, const Bytes& payload) {
    Bytes b(40, 0);
    b[0] = 0x60;
    put16(b, 4, uint16_t(ext.size() + payload.size()));
    b[6] = first_next;
    b[7] = 64;
    for (size_t at : {size_t(8), size_t(24)}) {
        b[at] = 0x20, b[at + 1] = 0x01, b[at + 2] = 0x0d, b[at + 3] = 0xb8;
    }
    b[23] = 1;
    b[39] = 2;
    return concat(concat(b, ext), payload);
}

Bytes ethernet(uint16_t type, const Bytes& payload) {
    Bytes b(14, 0);
    for (size_t i = 0; i < 12; ++i) b[i] = uint8_t(0x10 + i);
    put16(b, 12, type);
    return concat(b, payload);
}

std::optional<Segment> decode(const Bytes& frame, int linktype = DLT_EN10MB, int64_t t = 42) {
    return decode_frame(frame.data(), frame.size(), linktype, t);
}

void check_ipv4_fields(const Segment& s, const Tcp& t) {
    CHECK(s.src == "198.18.0.1");
    CHECK(s.dst == "198.18.0.2");
    CHECK(s.sport == t.sport);
    CHECK(s.dport == t.dport);
    CHECK(s.seq == t.seq);
    CHECK(s.ack == t.ack);
    CHECK(s.flags == t.flags);
    CHECK(s.window == t.window);
    CHECK(s.len == t.payload);
}

// A file path under the temp directory, removed when the test ends.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& what)
        : path((std::filesystem::temp_directory_path() /
                ("socklab-test-capture-" + std::to_string(::getpid()) + "-" + what))
                   .string()) {}
    ~TempFile() { std::filesystem::remove(path); }
};

// Writes frames with the given (seconds, sub-second) timestamps in the given precision.
void write_pcap(const std::string& path, int precision, const std::vector<std::pair<Bytes, timeval>>& frames) {
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, precision);
    REQUIRE(dead != nullptr);
    pcap_dumper_t* out = pcap_dump_open(dead, path.c_str());
    REQUIRE(out != nullptr);
    for (const auto& [frame, ts] : frames) {
        pcap_pkthdr h{};
        h.ts = ts;
        h.caplen = h.len = uint32_t(frame.size());
        pcap_dump(reinterpret_cast<u_char*>(out), &h, frame.data());
    }
    pcap_dump_close(out);
    pcap_close(dead);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("flags_text uses tcpdump's letters", "[capture]") {
    CHECK(flags_text(SYN) == "S");
    CHECK(flags_text(SYN | ACK) == "S.");
    CHECK(flags_text(ACK) == ".");
    CHECK(flags_text(RST) == "R");
    CHECK(flags_text(RST | ACK) == "R.");
    CHECK(flags_text(FIN | ACK) == "F.");
    CHECK(flags_text(PSH | ACK) == "P.");
    CHECK(flags_text(FIN | PSH | ACK) == "FP.");
    CHECK(flags_text(URG | ACK) == "U.");
    CHECK(flags_text(SYN | FIN | PSH | RST | URG | ACK) == "SFPRU.");
    CHECK(flags_text(0) == "none");
    CHECK(flags_text(SYN | 0x40 | 0x80) == "SEW");  // ECN-setup SYN
}

TEST_CASE("parse_flags inverts flags_text for every flags byte", "[capture]") {
    for (int f = 0; f < 256; ++f) {
        INFO("flags " << f << " text " << flags_text(uint8_t(f)));
        auto back = parse_flags(flags_text(uint8_t(f)));
        REQUIRE(back.has_value());
        CHECK(*back == f);
    }
}

TEST_CASE("parse_flags ignores order and rejects anything else", "[capture]") {
    CHECK(parse_flags(".S") == uint8_t(SYN | ACK));
    CHECK(parse_flags("PF.") == uint8_t(FIN | PSH | ACK));
    CHECK(parse_flags(".") == uint8_t(ACK));
    CHECK(parse_flags("R") == uint8_t(RST));
    CHECK_FALSE(parse_flags(""));
    CHECK_FALSE(parse_flags("A"));
    CHECK_FALSE(parse_flags("s"));
    CHECK_FALSE(parse_flags("S "));
    CHECK_FALSE(parse_flags("S,."));
    CHECK_FALSE(parse_flags("SS"));  // a repeated letter is a typo, not a flag set
    CHECK_FALSE(parse_flags("S.."));
    CHECK_FALSE(parse_flags("None"));
}

TEST_CASE("decode_frame reads every field of Ethernet/IPv4/TCP", "[capture]") {
    Tcp t;
    auto s = decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t))), DLT_EN10MB, 1700000000123456789);
    REQUIRE(s);
    check_ipv4_fields(*s, t);
    CHECK(s->time_ns == 1700000000123456789);
}

TEST_CASE("decode_frame reads every field of Ethernet/IPv6/TCP", "[capture]") {
    Tcp t;
    t.flags = SYN;
    t.payload = 0;
    t.ack = 0;
    t.window = 64800;
    auto s = decode(ethernet(0x86DD, ipv6_packet(6, {}, tcp_segment(t))), DLT_EN10MB, 7);
    REQUIRE(s);
    CHECK(s->src == "2001:db8::1");
    CHECK(s->dst == "2001:db8::2");
    CHECK(s->sport == 40001);
    CHECK(s->dport == 8080);
    CHECK(s->seq == 3000000001u);
    CHECK(s->ack == 0);
    CHECK(s->flags == SYN);
    CHECK(s->window == 64800);
    CHECK(s->len == 0);
    CHECK(s->time_ns == 7);
}

TEST_CASE("decode_frame honours IPv4 options and TCP options", "[capture]") {
    Tcp t;
    t.options = 12;  // doff 8, like Linux's timestamps option
    SECTION("IHL 7") {
        auto s = decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 8)));
        REQUIRE(s);
        check_ipv4_fields(*s, t);
    }
    SECTION("IHL 15, the maximum") {
        auto s = decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 40)));
        REQUIRE(s);
        check_ipv4_fields(*s, t);
    }
    SECTION("TCP doff 15, the maximum, no payload") {
        t.options = 40;
        t.payload = 0;
        auto s = decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t))));
        REQUIRE(s);
        check_ipv4_fields(*s, t);
    }
}

TEST_CASE("decode_frame reads the window scale option", "[capture]") {
    Tcp t;
    t.flags = SYN;
    t.payload = 0;
    t.options = 8;
    Bytes seg = tcp_segment(t);  // NOP NOP NOP WS(3, 7) NOP... as Linux lays out its SYN's tail
    seg[23] = 3, seg[24] = 3, seg[25] = 7;
    auto s = decode(ethernet(0x0800, ipv4_packet(6, seg)));
    REQUIRE(s);
    CHECK(s->wscale == 7);
    seg[25] = 20;  // RFC 7323: a shift above 14 is taken as 14
    CHECK(decode(ethernet(0x0800, ipv4_packet(6, seg)))->wscale == 14);
    seg[24] = 9;  // a length running past the options: no option read, and the segment kept
    s = decode(ethernet(0x0800, ipv4_packet(6, seg)));
    REQUIRE(s);
    CHECK(s->wscale == -1);
    t.options = 0;
    CHECK(decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t))))->wscale == -1);
}

TEST_CASE("relative_numbers: sequence numbers, una and windows as Wireshark shows them", "[capture]") {
    auto seg = [](bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t win, int ws = -1) {
        Segment s;
        s.src = from_client ? "198.18.0.1" : "198.18.0.2";
        s.dst = from_client ? "198.18.0.2" : "198.18.0.1";
        s.sport = from_client ? 40000 : 8080;
        s.dport = from_client ? 8080 : 40000;
        s.flags = flags;
        s.seq = seq, s.ack = ack, s.len = len, s.window = win, s.wscale = ws;
        return s;
    };
    const uint32_t c = 0xFFFFFFF0u, sv = 1000;  // the client's ISN wraps around
    const std::vector<Segment> segments{
        seg(true, SYN, c, 0, 0, 64240, 7),
        seg(false, SYN | ACK, sv, c + 1, 0, 65160, 2),
        seg(true, ACK, c + 1, sv + 1, 0, 502),
        seg(true, PSH | ACK, c + 1, sv + 1, 100, 502),
        seg(false, ACK, sv + 1, c + 101, 0, 0),         // a zero window
        seg(true, ACK, c + 100, sv + 1, 0, 502),        // a probe: seq = una - 1
        seg(true, SYN, 7, 0, 0, 64240),                 // a new connection on the same ports
    };
    const auto n = relative_numbers(segments);
    REQUIRE(n.size() == segments.size());
    CHECK(n[0].seq == 0);
    CHECK(n[0].window == 64240);                        // a SYN's window is never scaled
    CHECK(n[1].seq == 0);
    CHECK(n[1].ack == 1);
    CHECK(n[2].window == 502u << 7);                    // scaled by the client's own shift
    CHECK(n[3].seq == 1);
    CHECK(n[3].una == 1);                               // the SYN-ACK acked the SYN
    CHECK(n[4].ack == 101);
    CHECK(n[4].window == 0);
    CHECK(n[5].seq == 100);
    CHECK(n[5].una == 101);
    CHECK(n[5].seq == n[5].una - 1);
    CHECK(n[6].seq == 0);                               // numbered from its own ISN
    CHECK(n[6].una == 0);
    CHECK(n[6].window == 64240);
    // Without the option on both SYNs, nothing is scaled.
    std::vector<Segment> unscaled = segments;
    unscaled[1].wscale = -1;
    CHECK(relative_numbers(unscaled)[2].window == 502);
    CHECK(n[1].ack_relative);
    CHECK_FALSE(n[0].ack_relative);  // no ACK flag
    // A capture that began mid-connection: seq relative to the first one seen, and an ack of a
    // direction not seen yet raw.
    const auto mid = relative_numbers({segments[3], segments[4]});
    CHECK(mid[0].seq == 0);
    CHECK(mid[0].ack == sv + 1);
    CHECK_FALSE(mid[0].ack_relative);
    CHECK(mid[1].ack == 100);
    CHECK(mid[1].ack_relative);
}

TEST_CASE("decode_frame on every truncation is either nothing or the full segment", "[capture]") {
    Tcp t;
    t.options = 12;
    struct Case {
        const char* name;
        Bytes frame;
        size_t tcp_at;  // first byte of the TCP header
    };
    Bytes vlan_tag = {0x00, 0x05, 0x08, 0x00};  // TCI 5, then the inner EtherType IPv4
    Case cases[] = {
        {"ipv4", ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 8)), 14 + 28},
        {"ipv6", ethernet(0x86DD, ipv6_packet(6, {}, tcp_segment(t))), 14 + 40},
        {"vlan", ethernet(0x8100, concat(vlan_tag, ipv4_packet(6, tcp_segment(t)))), 18 + 20},
    };
    for (const auto& c : cases) {
        auto full = decode(c.frame);
        REQUIRE(full);
        for (size_t n = 0; n <= c.frame.size(); ++n) {
            INFO(c.name << " cut to " << n << " bytes");
            // An exact-size copy, so that a sanitizer sees any read past the end.
            Bytes cut(c.frame.begin(), c.frame.begin() + long(n));
            auto s = decode_frame(cut.data(), cut.size(), DLT_EN10MB, 42);
            // Only the fixed TCP header is needed; the payload length comes from IP.
            if (n < c.tcp_at + 20) {
                CHECK_FALSE(s);
            } else {
                REQUIRE(s);
                CHECK(s->src == full->src);
                CHECK(s->seq == t.seq);
                CHECK(s->ack == t.ack);
                CHECK(s->len == 100);
            }
        }
    }
}

TEST_CASE("decode_frame takes the payload length from IP, not from the capture", "[capture]") {
    Tcp t;
    SECTION("Ethernet padding after a pure ACK is not payload") {
        t.payload = 0;
        t.flags = ACK;
        Bytes frame = ethernet(0x0800, ipv4_packet(6, tcp_segment(t)));
        REQUIRE(frame.size() == 54);
        frame.resize(60, 0);
        auto s = decode(frame);
        REQUIRE(s);
        CHECK(s->len == 0);
    }
    SECTION("IPv4 total length 0 (TSO super-packet): the captured bytes count") {
        Bytes frame = ethernet(0x0800, ipv4_packet(6, tcp_segment(t)));
        put16(frame, 14 + 2, 0);
        auto s = decode(frame);
        REQUIRE(s);
        CHECK(s->len == 100);
    }
    SECTION("IPv4 total length shorter than its own header") {
        Bytes frame = ethernet(0x0800, ipv4_packet(6, tcp_segment(t)));
        put16(frame, 14 + 2, 19);
        CHECK_FALSE(decode(frame));
    }
    SECTION("TCP header longer than IP says the segment is") {
        Bytes frame = ethernet(0x0800, ipv4_packet(6, tcp_segment(t)));
        put16(frame, 14 + 2, 20 + 16);
        CHECK_FALSE(decode(frame));
    }
    SECTION("TCP data offset below 5") {
        Bytes frame = ethernet(0x0800, ipv4_packet(6, tcp_segment(t)));
        frame[14 + 20 + 12] = 4 << 4;
        CHECK_FALSE(decode(frame));
    }
    SECTION("IHL below 5") {
        Bytes frame = ethernet(0x0800, ipv4_packet(6, tcp_segment(t)));
        frame[14] = 0x44;
        CHECK_FALSE(decode(frame));
    }
}

TEST_CASE("decode_frame returns nothing for what is not TCP", "[capture]") {
    Bytes udp(8 + 20, 0);
    SECTION("UDP over IPv4") { CHECK_FALSE(decode(ethernet(0x0800, ipv4_packet(17, udp)))); }
    SECTION("UDP over IPv6") { CHECK_FALSE(decode(ethernet(0x86DD, ipv6_packet(17, {}, udp)))); }
    SECTION("ARP") {
        Bytes arp(28, 0);
        put16(arp, 0, 1);
        put16(arp, 2, 0x0800);
        arp[4] = 6, arp[5] = 4;
        put16(arp, 6, 1);
        CHECK_FALSE(decode(ethernet(0x0806, arp)));
    }
    SECTION("IPv4 EtherType but an IPv6 packet") {
        CHECK_FALSE(decode(ethernet(0x0800, ipv6_packet(6, {}, tcp_segment(Tcp{})))));
    }
    SECTION("unknown link type") {
        CHECK_FALSE(decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(Tcp{}))), 9999));
    }
}

TEST_CASE("decode_frame and IP fragments", "[capture]") {
    Tcp t;
    SECTION("IPv4 first fragment (MF set, offset 0) carries the TCP header") {
        auto s = decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 0, 0x2000)));
        REQUIRE(s);
        CHECK(s->seq == t.seq);
    }
    SECTION("IPv4 later fragment is skipped") {
        CHECK_FALSE(decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 0, 185))));
    }
    SECTION("IPv4 DF bit alone is no fragment") {
        CHECK(decode(ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 0, 0x4000))));
    }
    Bytes frag = {6, 0, 0x00, 0x01, 0, 0, 0, 1};  // next TCP, offset 0, M set
    SECTION("IPv6 first fragment") {
        auto s = decode(ethernet(0x86DD, ipv6_packet(44, frag, tcp_segment(t))));
        REQUIRE(s);
        CHECK(s->len == 100);
    }
    SECTION("IPv6 later fragment is skipped") {
        frag[2] = 0x05, frag[3] = 0xa8;  // offset 181 (x8 bytes)
        CHECK_FALSE(decode(ethernet(0x86DD, ipv6_packet(44, frag, tcp_segment(t)))));
    }
}

TEST_CASE("decode_frame walks IPv6 extension headers", "[capture]") {
    Tcp t;
    t.options = 12;
    // Hop-by-hop (8 bytes) -> routing (24 bytes) -> destination options (16 bytes) -> TCP.
    Bytes hop = {43, 0, 1, 4, 0, 0, 0, 0};
    Bytes routing(24, 0);
    routing[0] = 60, routing[1] = 2;
    Bytes dest(16, 0);
    dest[0] = 6, dest[1] = 1;
    Bytes ext = concat(concat(hop, routing), dest);
    Bytes frame = ethernet(0x86DD, ipv6_packet(0, ext, tcp_segment(t)));
    auto s = decode(frame);
    REQUIRE(s);
    CHECK(s->dst == "2001:db8::2");
    CHECK(s->sport == t.sport);
    CHECK(s->seq == t.seq);
    CHECK(s->flags == t.flags);
    CHECK(s->len == 100);
    SECTION("No Next Header") {
        frame[14 + 40 + 8 + 24] = 59;
        CHECK_FALSE(decode(frame));
    }
    SECTION("an extension header claiming more than was captured") {
        frame[14 + 40 + 8 + 24 + 1] = 255;
        CHECK_FALSE(decode(frame));
    }
}

TEST_CASE("decode_frame on cooked and raw link types", "[capture]") {
    Tcp t;
    Bytes ip = ipv4_packet(6, tcp_segment(t));
    SECTION("DLT_LINUX_SLL") {
        Bytes sll(16, 0);
        put16(sll, 14, 0x0800);
        auto s = decode(concat(sll, ip), DLT_LINUX_SLL);
        REQUIRE(s);
        check_ipv4_fields(*s, t);
    }
    SECTION("DLT_LINUX_SLL2") {
        Bytes sll2(20, 0);
        put16(sll2, 0, 0x0800);
        auto s = decode(concat(sll2, ip), DLT_LINUX_SLL2);
        REQUIRE(s);
        check_ipv4_fields(*s, t);
    }
    SECTION("DLT_RAW, IPv4 and IPv6") {
        auto s = decode(ip, DLT_RAW);
        REQUIRE(s);
        check_ipv4_fields(*s, t);
        auto s6 = decode(ipv6_packet(6, {}, tcp_segment(t)), DLT_RAW);
        REQUIRE(s6);
        CHECK(s6->src == "2001:db8::1");
        CHECK(s6->len == 100);
    }
    SECTION("Ethernet decoded as SLL is garbage, not a crash") {
        CHECK_FALSE(decode(ethernet(0x0800, ip), DLT_LINUX_SLL));
    }
}

TEST_CASE("decode_frame survives random and mutated frames", "[capture]") {
    std::mt19937 rng(12345);
    Tcp t;
    Bytes vlan_tag = {0x00, 0x05, 0x86, 0xDD};
    std::vector<Bytes> seeds = {
        ethernet(0x0800, ipv4_packet(6, tcp_segment(t), 8)),
        ethernet(0x8100, concat(vlan_tag, ipv6_packet(0, {6, 0, 1, 4, 0, 0, 0, 0}, tcp_segment(t)))),
    };
    int decoded = 0;
    for (int round = 0; round < 20000; ++round) {
        Bytes frame = seeds[size_t(round) % seeds.size()];
        for (int flips = 1 + int(rng() % 4); flips > 0; --flips) frame[rng() % 60] = uint8_t(rng());
        frame.resize(rng() % (frame.size() + 1));
        for (int linktype : {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW}) {
            auto s = decode_frame(frame.data(), frame.size(), linktype, 0);
            if (s) {
                ++decoded;
                REQUIRE(s->len <= 65535);
            }
        }
    }
    // Mutations mostly leave the frame decodable; if none were, the test would prove little.
    CHECK(decoded > 1000);
    CHECK_FALSE(decode_frame(nullptr, 100, DLT_EN10MB, 0));
}

TEST_CASE("read_pcap returns the segments of a file with their timestamps", "[capture]") {
    Tcp syn, synack, ack;
    syn.flags = SYN, syn.payload = 0, syn.ack = 0, syn.seq = 1000, syn.options = 20;
    synack.flags = SYN | ACK, synack.payload = 0, synack.seq = 5000, synack.ack = 1001;
    synack.sport = 8080, synack.dport = 40001;
    ack.flags = ACK, ack.payload = 0, ack.seq = 1001, ack.ack = 5001, ack.window = 502;
    Bytes arp(28, 0);
    std::vector<std::pair<Bytes, timeval>> frames = {
        {ethernet(0x0800, ipv4_packet(6, tcp_segment(syn))), {1700000000, 1}},
        {ethernet(0x0806, arp), {1700000000, 500}},  // not TCP: left out
        {ethernet(0x0800, ipv4_packet(6, tcp_segment(synack))), {1700000000, 999999999}},
        {ethernet(0x0800, ipv4_packet(6, tcp_segment(ack))), {1700000001, 123456789}},
    };

    SECTION("nanosecond file") {
        TempFile file("nano.pcap");
        write_pcap(file.path, PCAP_TSTAMP_PRECISION_NANO, frames);
        auto segs = read_pcap(file.path);
        REQUIRE(segs.size() == 3);
        CHECK(segs[0].time_ns == 1700000000000000001);
        CHECK(segs[1].time_ns == 1700000000999999999);
        CHECK(segs[2].time_ns == 1700000001123456789);
        check_ipv4_fields(segs[0], syn);
        CHECK(flags_text(segs[0].flags) == "S");
        CHECK(segs[1].sport == 8080);
        CHECK(segs[1].seq == 5000);
        CHECK(segs[1].ack == 1001);
        CHECK(flags_text(segs[1].flags) == "S.");
        check_ipv4_fields(segs[2], ack);
        CHECK(flags_text(segs[2].flags) == ".");
    }
    SECTION("microsecond file, as pcap_open_dead writes it, is scaled to nanoseconds") {
        TempFile file("micro.pcap");
        frames[2].second.tv_usec = 999999;
        frames[3].second.tv_usec = 123456;
        pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
        REQUIRE(pcap_get_tstamp_precision(dead) == PCAP_TSTAMP_PRECISION_MICRO);
        pcap_close(dead);
        write_pcap(file.path, PCAP_TSTAMP_PRECISION_MICRO, frames);
        auto segs = read_pcap(file.path);
        REQUIRE(segs.size() == 3);
        CHECK(segs[0].time_ns == 1700000000000001000);
        CHECK(segs[1].time_ns == 1700000000999999000);
        CHECK(segs[2].time_ns == 1700000001123456000);
        CHECK(segs[2].ack == 5001);
    }
    SECTION("a cut-off last record is an error, not a shorter capture") {
        TempFile file("cut.pcap");
        write_pcap(file.path, PCAP_TSTAMP_PRECISION_NANO, frames);
        std::filesystem::resize_file(file.path, std::filesystem::file_size(file.path) - 10);
        REQUIRE_THROWS_WITH(read_pcap(file.path), Catch::Contains(file.path) && Catch::Contains("truncated"));
    }
}

TEST_CASE("read_pcap names the file it cannot read", "[capture]") {
    SECTION("missing") {
        TempFile file("missing.pcap");
        REQUIRE_THROWS_WITH(read_pcap(file.path), Catch::StartsWith(file.path + ": "));
    }
    SECTION("not a pcap file") {
        TempFile file("text.pcap");
        std::ofstream(file.path) << "this is not a capture file, just text long enough for a header\n";
        REQUIRE_THROWS_WITH(read_pcap(file.path), Catch::StartsWith(file.path + ": "));
    }
    SECTION("empty") {
        TempFile file("empty.pcap");
        std::ofstream(file.path).flush();
        REQUIRE_THROWS_WITH(read_pcap(file.path), Catch::StartsWith(file.path + ": "));
    }
}

TEST_CASE("Capture in a namespace that does not exist names it", "[capture]") {
    TempFile file("never.pcap");
    REQUIRE_THROWS_WITH(Capture("sltest-no-such-ns", "va", file.path),
                        Catch::Contains("sltest-no-such-ns") && Catch::Contains("va"));
    CHECK_FALSE(std::filesystem::exists(file.path));
}
