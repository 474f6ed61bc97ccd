// Rewrites a capture in another link type, for the ladder check (tests/ladder-check.sh): Linux
// cannot capture BSD loopback (DLT_NULL) or raw IP (DLT_RAW) frames, so the Ethernet capture of a
// test connection is written again with its IP packets under those headers, through libpcap's
// own pcap_dump. Also cuts every frame to a snaplen, for the truncation check.
//   convert IN OUT null|loop|raw|ether|wifi [SNAPLEN]
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {
bool skip_ok(int linktype) { return linktype == DLT_NULL || linktype == DLT_LOOP || linktype == DLT_RAW; }
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: convert IN OUT null|loop|raw|ether|wifi [SNAPLEN]\n");
        return 2;
    }
    const std::string kind = argv[3];
    const unsigned snaplen = argc > 4 ? unsigned(std::atoi(argv[4])) : 262144;
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t* in = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!in) {
        std::fprintf(stderr, "convert: %s\n", errbuf);
        return 1;
    }
    if (pcap_datalink(in) != DLT_EN10MB) {
        std::fprintf(stderr, "convert: %s is not Ethernet\n", argv[1]);
        return 1;
    }
    // "wifi": a link type socklab does not decode (the frames stay Ethernet's, which is wrong, and
    // irrelevant: the reader must refuse the file by its header).
    const int linktype = kind == "null"   ? DLT_NULL
                         : kind == "loop" ? DLT_LOOP
                         : kind == "raw"  ? DLT_RAW
                         : kind == "wifi" ? DLT_IEEE802_11
                                          : DLT_EN10MB;
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(linktype, int(snaplen), PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t* out = pcap_dump_open(dead, argv[2]);
    if (!out) {
        std::fprintf(stderr, "convert: %s\n", pcap_geterr(dead));
        return 1;
    }
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(in, &h, &data) == 1) {
        if (h->caplen < 14) continue;
        const unsigned type = unsigned(data[12]) << 8 | data[13];
        if (skip_ok(linktype) && type != 0x0800 && type != 0x86DD) continue;
        std::vector<u_char> frame;
        if (linktype == DLT_NULL || linktype == DLT_LOOP) {
            // The family: host byte order for DLT_NULL, network order for DLT_LOOP; Linux's AF_INET6.
            const uint32_t family = type == 0x0800 ? 2 : 10;
            uint32_t header = linktype == DLT_LOOP ? __builtin_bswap32(family) : family;
            frame.resize(4);
            std::memcpy(frame.data(), &header, 4);
        }
        const size_t skip = linktype == DLT_NULL || linktype == DLT_LOOP || linktype == DLT_RAW ? 14 : 0;
        frame.insert(frame.end(), data + skip, data + h->caplen);
        pcap_pkthdr out_header = *h;
        out_header.len = unsigned(h->len - skip + (frame.size() - (h->caplen - skip)));
        out_header.caplen = unsigned(std::min<size_t>(frame.size(), snaplen));
        pcap_dump(reinterpret_cast<u_char*>(out), &out_header, frame.data());
    }
    pcap_dump_close(out);
    pcap_close(dead);
    pcap_close(in);
    return 0;
}
