// Capture: libpcap on one interface inside a namespace, written to a pcap file, and a decoder of
// the TCP segments in such a file for the expectations and the report.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace socklab {

// TCP flag bits as in the header's 13th byte.
enum TcpFlag : uint8_t { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20 };

struct Segment {
    int64_t time_ns = 0;          // pcap timestamp, CLOCK_REALTIME nanoseconds
    std::string src, dst;         // addresses as text (inet_ntop)
    uint16_t sport = 0, dport = 0;
    uint8_t flags = 0;
    uint32_t seq = 0, ack = 0;
    uint32_t len = 0;             // TCP payload bytes
    uint16_t window = 0;          // as sent, before window scaling
    int wscale = -1;              // the window scale option (SYNs carry it), -1 when absent
};

// tcpdump's notation: "S", "S.", ".", "P.", "F.", "R", "R." (SYN, FIN, PSH, RST, then '.' for ACK).
std::string flags_text(uint8_t flags);
// Parses that notation back; nullopt when a character is not a flag letter.
std::optional<uint8_t> parse_flags(const std::string& text);

// One link-layer frame (DLT_EN10MB or DLT_LINUX_SLL/SLL2 or DLT_RAW) to a segment; nullopt when it
// is not TCP over IPv4/IPv6 or is truncated. Never reads past `caplen`.
std::optional<Segment> decode_frame(const uint8_t* data, size_t caplen, int linktype, int64_t time_ns);

// A segment's numbers as Wireshark shows them, per connection (its two directions): seq and ack
// relative to each direction's initial sequence number (its SYN's, else the first seq seen; an
// ack of a direction not seen yet stays raw), the window in bytes (scaled when both SYNs carried
// the option; a SYN's own is never scaled), and una: the highest ack its sender had received
// before it (snd_una as the wire shows it).
struct Relative {
    uint32_t seq = 0, ack = 0, una = 0;
    bool ack_relative = false;
    uint64_t window = 0;
};
// One for each segment, in the same order.
std::vector<Relative> relative_numbers(const std::vector<Segment>& segments);

// All TCP segments of a pcap file, in file order. Throws std::runtime_error naming the file when
// it cannot be opened or is not a pcap file.
std::vector<Segment> read_pcap(const std::string& path);
// The same from a pcap file's bytes in memory (for the fuzzer).
std::vector<Segment> read_pcap_memory(const uint8_t* data, size_t size);

// A running capture on `ifname` in namespace `netns`, written to `path`. The constructor returns
// once the socket is bound, so every later packet is captured; stop() drains what the kernel
// still holds, flushes and closes the file. The destructor stops if needed.
class Capture {
public:
    Capture(const std::string& netns, const std::string& ifname, const std::string& path);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    // Stops capturing and completes the pcap file; the packet socket closes with the object.
    void stop();
    uint64_t packets() const;
    // Frames lost because the ring was full, known once stopped: a capture with losses cannot
    // back any packet expectation.
    uint64_t dropped() const;
    // The segments captured so far, decoded as they arrived (for class mode, while a run goes on;
    // the expectations read the pcap file itself).
    std::vector<Segment> segments_so_far() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace socklab
