// Writes the seed corpus of fuzz_u6_stream: usage make_u6_seeds DIR. The stream seeds are the
// packets tests/emulators/u6_emulator.cpp sends (encode_stream_packet, nominal calibration,
// three ±10 V channels, 25 samples per packet) for a clean stream and for each of its faults:
// FIFO overflow with auto-recovery, scan overlap, a corrupt checksum, a lost packet, a short
// packet. The response seeds are the emulator's answers to the driver's commands.
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "labjack/u6_protocol.h"

namespace {

namespace u6 = isokin::drivers::u6;
using Bytes = std::vector<std::uint8_t>;

constexpr int kChannels = 3;
constexpr int kSpp = u6::kMaxSamplesPerPacket;

void write(const std::filesystem::path& file, const Bytes& header, const Bytes& body) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header.data()),
            static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}

// The emulator's stream: a knee-test-like torque, angle and velocity, as counts.
class Stream {
 public:
  enum class Fault { kNone, kOverflow, kScanOverlap, kCorrupt, kLost, kShort };

  Bytes packets(int count, Fault fault, int at) {
    Bytes out;
    for (int k = 0; k < count; ++k) {
      std::uint8_t error = u6::kNoError;
      std::uint8_t backlog = 0;
      std::uint16_t discarded = 0;
      if (fault == Fault::kOverflow && k >= at && k < at + 3) {
        error = u6::kStreamAutorecoverActive;
        backlog = 255;
      } else if (fault == Fault::kOverflow && k == at + 3) {
        error = u6::kStreamAutorecoverReport;
        discarded = 40;
        for (int c = 0; c < kChannels; ++c) pending_.push_back(u6::kDummySample);
        scan_ += discarded;
      }
      while (pending_.size() < kSpp) {
        const double t = static_cast<double>(scan_++) / 1000.0;
        const std::array<double, kChannels> volts = {
            4.0 * std::sin(6.0 * t), 3.0 * std::cos(2.0 * t), -2.0 * std::sin(2.0 * t)};
        for (const double v : volts) pending_.push_back(calibration_.counts(v, u6::Gain::kX1));
      }
      const std::vector<std::uint16_t> samples(pending_.begin(), pending_.begin() + kSpp);
      pending_.erase(pending_.begin(), pending_.begin() + kSpp);
      if (fault == Fault::kScanOverlap && k == at) error = u6::kStreamScanOverlap;
      Bytes packet = u6::encode_stream_packet({counter_, error, backlog, discarded, samples});
      ++counter_;
      if (fault == Fault::kLost && k == at) continue;  // never arrives
      if (fault == Fault::kCorrupt && k == at) packet[13] ^= 0x5A;
      if (fault == Fault::kShort && k == count - 1) packet.resize(packet.size() / 2);
      out.insert(out.end(), packet.begin(), packet.end());
    }
    return out;
  }

 private:
  u6::Calibration calibration_ = u6::Calibration::nominal();
  std::vector<std::uint16_t> pending_;
  std::uint64_t scan_ = 0;
  std::uint8_t counter_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_u6_seeds DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  // Stream input: channels - 1, samples per packet - 1, packets before the split.
  const Bytes header = {kChannels - 1, kSpp - 1, 3};
  using Fault = Stream::Fault;
  const std::array<std::pair<const char*, Fault>, 6> faults = {{{"clean", Fault::kNone},
                                                                {"overflow", Fault::kOverflow},
                                                                {"overlap", Fault::kScanOverlap},
                                                                {"corrupt", Fault::kCorrupt},
                                                                {"lost", Fault::kLost},
                                                                {"short", Fault::kShort}}};
  for (const auto& [name, fault] : faults) {
    Stream stream;
    write(dir / (std::string("stream-") + name), header, stream.packets(8, fault, 2));
  }
  // Responses: 0x80, the selector of u6_stream_fuzz.cpp, the bytes.
  u6::DeviceInfo info;
  info.serial = 360012345;
  info.product_id = u6::kProductId;
  info.firmware_major = 1;
  info.firmware_minor = 43;
  info.version_info = 4;
  write(dir / "response-config-u6", {0x80, 0}, u6::config_u6_response(info));
  write(dir / "response-calibration", {0x80, 1},
        u6::read_calibration_response(1, u6::Calibration::nominal().block(1)));
  write(dir / "response-stream-config", {0x80, 2}, u6::stream_config_response(u6::kNoError));
  write(dir / "response-start", {0x80, 8}, u6::start_stop_response(true, u6::kNoError));
  u6::StreamSettings settings;
  settings.channels = {
      {0, u6::Gain::kX1, false}, {1, u6::Gain::kX1, false}, {2, u6::Gain::kX1, false}};
  write(dir / "command-stream-config", {0x80, 4}, u6::stream_config_command(settings));
  return 0;
}
