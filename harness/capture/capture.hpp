// Capture: libpcap on one interface inside a namespace, written to a pcap file, and a decoder of
// the TCP segments in such a file for the expectations and the report.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
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
    bool truncated = false;       // the snaplen cut the frame: fewer bytes captured than it had
};

// tcpdump's notation: "S", "S.", ".", "P.", "F.", "R", "R." (SYN, FIN, PSH, RST, then '.' for ACK).
std::string flags_text(uint8_t flags);
// Parses that notation back; nullopt when a character is not a flag letter.
std::optional<uint8_t> parse_flags(const std::string& text);

// One link-layer frame (DLT_EN10MB, DLT_LINUX_SLL/SLL2, DLT_NULL/DLT_LOOP, DLT_RAW) to a segment;
// nullopt when it is not TCP over IPv4/IPv6 or is cut before the end of the fixed TCP header.
// Never reads past `caplen`; `wire_len` (the frame's length on the wire, 0: caplen) marks a
// segment the snaplen cut as truncated (its len still comes from the IP header).
std::optional<Segment> decode_frame(const uint8_t* data, size_t caplen, int linktype, int64_t time_ns,
                                    size_t wire_len = 0);

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

// Whether decode_frame knows the link type, and its name as libpcap says it ("EN10MB").
bool link_type_supported(int linktype);
std::string link_type_name(int linktype);

// A capture file that cannot be read: not a capture, cut off, of a link type socklab cannot decode,
// or a bad filter. what() is one sentence naming the file, the problem and what to do.
struct CaptureFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What reading a capture file found besides its TCP segments.
struct CaptureFileInfo {
    int linktype = 0;
    uint64_t frames = 0;      // every record (that passed the filter)
    uint64_t segments = 0;    // of which TCP segments
    uint64_t truncated = 0;   // TCP segments the snaplen cut (decoded from their headers)
    uint64_t undecodable = 0; // frames that are not TCP over IP, or cut before the TCP header
};

// Streams a pcap or pcapng file (libpcap reads both): `each` gets every TCP segment in file order,
// and nothing is kept. `bpf`, when not empty, selects frames as tcpdump's filter would. Throws
// CaptureFileError.
CaptureFileInfo read_capture(const std::string& path, const std::function<void(const Segment&)>& each,
                             const std::string& bpf = "");

// All TCP segments of a pcap file, in file order. Throws CaptureFileError (a std::runtime_error)
// naming the file when it cannot be opened, is not a capture, is cut off or of an unknown link type.
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
