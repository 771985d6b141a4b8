// C3D analog reader. Layout (c3d.org, "The C3D File Format User Guide"): 512-byte blocks; block 1
// is the header (16-bit words), the parameter section starts at the block named by byte 0 and
// its 4th byte is the processor type; then groups and parameters as a linked list; the data
// section holds, per 3D frame, the points (4 words each) and then `samples per frame` rows of
// analog channels.
#include "isokin/acquisition/c3d.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>

#include "isokin/acquisition/import.h"

namespace isokin::acquisition {
namespace {

constexpr std::size_t kBlock = 512;

struct Parameter {
  int type = 0;  // -1 char, 1 byte, 2 int16, 4 float
  std::vector<std::size_t> dims;
  std::size_t data_offset = 0;  // in the file
  std::size_t count = 0;        // elements
};

class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  [[noreturn]] void fail(std::size_t offset, const std::string& problem) const {
    throw ImportError(fmt::format("{}: byte {}: {}", name_, offset, problem));
  }

  void need(std::size_t offset, std::size_t length, const char* what) const {
    if (offset > bytes_.size() || length > bytes_.size() - offset) {
      fail(std::min(offset, bytes_.size()),
           fmt::format("{} needs {} bytes but the file ends at byte {}", what, length,
                       bytes_.size()));
    }
  }

  [[nodiscard]] std::uint8_t u8(std::size_t offset) const {
    need(offset, 1, "a byte");
    return static_cast<std::uint8_t>(bytes_[offset]);
  }
  // A signed byte (two's complement), as int.
  [[nodiscard]] int i8(std::size_t offset) const {
    const int v = u8(offset);
    return v < 128 ? v : v - 256;
  }
  [[nodiscard]] std::uint16_t u16(std::size_t offset) const {
    need(offset, 2, "a 16-bit word");
    const auto a = static_cast<std::uint16_t>(bytes_[offset]);
    const auto b = static_cast<std::uint16_t>(bytes_[offset + 1]);
    return big_endian_ ? static_cast<std::uint16_t>((a << 8) | b)
                       : static_cast<std::uint16_t>((b << 8) | a);
  }
  [[nodiscard]] std::int16_t i16(std::size_t offset) const {
    return static_cast<std::int16_t>(u16(offset));
  }
  [[nodiscard]] double f32(std::size_t offset) const {
    need(offset, 4, "a float");
    std::uint8_t b[4];
    std::memcpy(b, bytes_.data() + offset, 4);
    if (processor_ == C3dAnalog::Processor::kDec) return dec_float(b);
    std::uint32_t bits = 0;
    if (big_endian_) {
      bits = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
             (std::uint32_t{b[2]} << 8) | b[3];
    } else {
      bits = (std::uint32_t{b[3]} << 24) | (std::uint32_t{b[2]} << 16) |
             (std::uint32_t{b[1]} << 8) | b[0];
    }
    return static_cast<double>(std::bit_cast<float>(bits));
  }

  void set_processor(C3dAnalog::Processor p) {
    processor_ = p;
    big_endian_ = p == C3dAnalog::Processor::kMips;
  }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] std::string text(std::size_t offset, std::size_t length) const {
    need(offset, length, "text");
    return {reinterpret_cast<const char*>(bytes_.data() + offset), length};
  }

 private:
  // VAX F_floating as DEC machines wrote it: two little-endian 16-bit words, the first holding
  // sign, 8-bit exponent (bias 128) and the top 7 mantissa bits of 0.1fff…; value =
  // (1 + m/2^23) · 2^(e−129). Exponent 0 is zero (or a reserved operand with the sign set).
  [[nodiscard]] static double dec_float(const std::uint8_t* b) {
    const std::uint32_t hi = std::uint32_t{b[0]} | (std::uint32_t{b[1]} << 8);
    const std::uint32_t lo = std::uint32_t{b[2]} | (std::uint32_t{b[3]} << 8);
    const std::uint32_t bits = (hi << 16) | lo;
    const int exponent = static_cast<int>((bits >> 23) & 0xFFU);
    const bool negative = (bits >> 31) != 0;
    if (exponent == 0) return negative ? std::numeric_limits<double>::quiet_NaN() : 0.0;
    const double mantissa = 1.0 + static_cast<double>(bits & 0x7FFFFFU) / 8388608.0;
    const double value = std::ldexp(mantissa, exponent - 129);
    return negative ? -value : value;
  }

  std::span<const std::byte> bytes_;
  const std::string& name_;
  C3dAnalog::Processor processor_ = C3dAnalog::Processor::kIntel;
  bool big_endian_ = false;
};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

C3dAnalog read_c3d_analog(std::span<const std::byte> bytes, const std::string& name) {
  Reader r(bytes, name);
  if (bytes.size() < kBlock) r.fail(bytes.size(), "shorter than the 512-byte C3D header");
  if (r.u8(1) != 0x50) r.fail(1, "not a C3D file (header key is not 0x50)");
  const std::size_t parameter_block = r.u8(0);
  if (parameter_block < 2)
    r.fail(0, fmt::format("parameter block {} is not after the header", parameter_block));
  const std::size_t parameter_start = (parameter_block - 1) * kBlock;
  r.need(parameter_start, 4, "the parameter section header");
  const int processor_code = r.u8(parameter_start + 3);
  if (processor_code < 84 || processor_code > 86) {
    r.fail(
        parameter_start + 3,
        fmt::format("processor type {} is not 84 (Intel), 85 (DEC) or 86 (MIPS)", processor_code));
  }
  C3dAnalog out;
  out.processor = static_cast<C3dAnalog::Processor>(processor_code);
  r.set_processor(out.processor);

  // Header words (1-based word n at byte 2(n−1)).
  const std::size_t point_count = r.u16(2);
  const std::size_t analog_per_frame = r.u16(4);
  const std::size_t first_frame = r.u16(6);
  const std::size_t last_frame = r.u16(8);
  const double point_scale = r.f32(12);
  const std::size_t data_block = r.u16(16);
  const std::size_t samples_per_frame_header = r.u16(18);
  const double frame_rate = r.f32(20);

  // Parameters: a linked list of groups (negative id) and parameters (positive group id).
  std::map<int, std::string> groups;
  std::vector<std::pair<std::pair<int, std::string>, Parameter>> raw_parameters;
  const std::size_t block_count = r.u8(parameter_start + 2);
  const std::size_t section_end =
      std::min(r.size(), parameter_start + std::max<std::size_t>(block_count, 1) * kBlock);
  std::size_t pos = parameter_start + 4;
  while (pos + 2 <= section_end) {
    const int name_length = std::abs(r.i8(pos));
    const int id = r.i8(pos + 1);
    if (name_length == 0 || id == 0) break;  // end of the list
    const std::size_t name_at = pos + 2;
    const std::string item_name = upper(r.text(name_at, static_cast<std::size_t>(name_length)));
    const std::size_t link_at = name_at + static_cast<std::size_t>(name_length);
    const int link = r.i16(link_at);
    if (id < 0) {
      groups[-id] = item_name;
    } else {
      Parameter p;
      p.type = r.i8(link_at + 2);
      if (p.type != -1 && p.type != 1 && p.type != 2 && p.type != 4) {
        r.fail(link_at + 2,
               fmt::format("parameter {}: data type {} is not -1, 1, 2 or 4", item_name, p.type));
      }
      const std::size_t dim_count = r.u8(link_at + 3);
      std::size_t count = 1;
      for (std::size_t d = 0; d < dim_count; ++d) {
        p.dims.push_back(r.u8(link_at + 4 + d));
        count *= p.dims.back();  // at most 255^7 < 2^56: no overflow
      }
      p.count = count;
      p.data_offset = link_at + 4 + dim_count;
      r.need(p.data_offset, count * static_cast<std::size_t>(std::abs(p.type)),
             ("parameter " + item_name).c_str());
      raw_parameters.push_back({{id, item_name}, p});
    }
    if (link == 0) break;  // last item
    if (link < 0) r.fail(link_at, fmt::format("{}: link {} points backwards", item_name, link));
    pos = link_at + static_cast<std::size_t>(link);
  }
  std::map<std::string, Parameter> parameters;
  for (auto& [key, p] : raw_parameters) {
    const auto g = groups.find(key.first);
    if (g != groups.end()) parameters[g->second + ":" + key.second] = p;
  }
  auto find = [&](const std::string& key) -> const Parameter* {
    const auto it = parameters.find(key);
    return it == parameters.end() ? nullptr : &it->second;
  };
  auto number = [&](const Parameter& p, std::size_t i) -> double {
    const auto size = static_cast<std::size_t>(std::abs(p.type));
    const std::size_t at = p.data_offset + i * size;
    switch (p.type) {
      case 1:
        return r.u8(at);
      case 2:
        return r.i16(at);
      case 4:
        return r.f32(at);
      default:
        return std::numeric_limits<double>::quiet_NaN();
    }
  };
  auto scalar = [&](const std::string& key) -> std::optional<double> {
    const Parameter* p = find(key);
    if (p == nullptr || p->type == -1 || p->count == 0) return std::nullopt;
    return number(*p, 0);
  };
  auto strings = [&](const std::string& key) {
    std::vector<std::string> out_strings;
    const Parameter* p = find(key);
    if (p == nullptr || p->type != -1) return out_strings;
    const std::size_t length = p->dims.empty() ? 0 : p->dims[0];
    const std::size_t n = p->dims.size() < 2 ? 1 : p->count / std::max<std::size_t>(length, 1);
    for (std::size_t i = 0; i < n && length > 0; ++i) {
      out_strings.push_back(trim_right(r.text(p->data_offset + i * length, length)));
    }
    return out_strings;
  };

  // Layout of the data section.
  if (samples_per_frame_header == 0 && analog_per_frame != 0) {
    r.fail(18, "analog samples per frame is 0 but the file declares analog data");
  }
  const std::size_t samples_per_frame = std::max<std::size_t>(samples_per_frame_header, 1);
  if (analog_per_frame % samples_per_frame != 0) {
    r.fail(4, fmt::format("{} analog values per frame is not a multiple of {} samples per frame",
                          analog_per_frame, samples_per_frame));
  }
  out.channel_count = analog_per_frame / samples_per_frame;
  if (const auto used = scalar("ANALOG:USED")) {
    if (*used != static_cast<double>(out.channel_count)) {
      r.fail(find("ANALOG:USED")->data_offset,
             fmt::format("ANALOG:USED is {} but the header declares {} channels", *used,
                         out.channel_count));
    }
  }
  std::size_t frame_count = 0;
  // Files with more than 65535 frames give the range in TRIAL:ACTUAL_*_FIELD (two words each).
  const Parameter* start_field = find("TRIAL:ACTUAL_START_FIELD");
  const Parameter* end_field = find("TRIAL:ACTUAL_END_FIELD");
  if (last_frame == 65535 && start_field != nullptr && end_field != nullptr &&
      start_field->type == 2 && end_field->type == 2 && start_field->count >= 2 &&
      end_field->count >= 2) {
    auto field = [&](const Parameter& p) {
      return static_cast<std::size_t>(r.u16(p.data_offset)) +
             (static_cast<std::size_t>(r.u16(p.data_offset + 2)) << 16);
    };
    const std::size_t first = field(*start_field);
    const std::size_t last = field(*end_field);
    if (last < first) r.fail(end_field->data_offset, "TRIAL:ACTUAL_END_FIELD before its start");
    frame_count = last - first + 1;
  } else {
    if (last_frame < first_frame) {
      r.fail(8, fmt::format("last frame {} is before the first frame {}", last_frame, first_frame));
    }
    frame_count = last_frame - first_frame + 1;
  }
  out.float_data = point_scale < 0.0;
  if (!std::isfinite(point_scale)) r.fail(12, "the point scale factor is not a number");
  const std::size_t word = out.float_data ? 4 : 2;
  const std::size_t frame_bytes = (point_count * 4 + analog_per_frame) * word;
  if (data_block < 2) r.fail(16, fmt::format("data block {} is not after the header", data_block));
  const std::size_t data_start = (data_block - 1) * kBlock;
  // Hostile sizes are refused here, before anything is allocated: the data must be in the file.
  if (data_start > r.size() ||
      frame_count > (r.size() - data_start) / std::max<std::size_t>(frame_bytes, 1)) {
    r.fail(std::min(data_start, r.size()),
           fmt::format("{} frames of {} bytes from byte {} do not fit in the file's {} bytes",
                       frame_count, frame_bytes, data_start, r.size()));
  }

  // Scaling: value = (raw − offset) · scale · gen_scale.
  const double gen_scale = scalar("ANALOG:GEN_SCALE").value_or(1.0);
  const Parameter* scale = find("ANALOG:SCALE");
  const Parameter* offset = find("ANALOG:OFFSET");
  out.scale.assign(out.channel_count, gen_scale);
  out.offset.assign(out.channel_count, 0.0);
  for (std::size_t c = 0; c < out.channel_count; ++c) {
    if (scale != nullptr && scale->type != -1 && c < scale->count) {
      out.scale[c] = number(*scale, c) * gen_scale;
    }
    if (offset != nullptr && offset->type != -1 && c < offset->count) {
      out.offset[c] = number(*offset, c);
    }
  }
  const auto format = strings("ANALOG:FORMAT");
  const bool unsigned_data = !format.empty() && upper(format[0]) == "UNSIGNED";
  if (unsigned_data && offset != nullptr && offset->type == 2) {
    for (std::size_t c = 0; c < out.channel_count && c < offset->count; ++c) {
      out.offset[c] = r.u16(offset->data_offset + 2 * c);
    }
  }
  out.labels = strings("ANALOG:LABELS");
  out.units = strings("ANALOG:UNITS");
  const double rate =
      scalar("ANALOG:RATE").value_or(frame_rate * static_cast<double>(samples_per_frame_header));
  if (out.channel_count > 0 && !(rate > 0.0 && std::isfinite(rate))) {
    r.fail(20, fmt::format("analog rate {} Hz is not positive", rate));
  }
  out.analog_rate_hz = rate;
  out.sample_count = frame_count * samples_per_frame;

  out.values.resize(out.channel_count * out.sample_count);
  for (std::size_t f = 0; f < frame_count; ++f) {
    std::size_t at = data_start + f * frame_bytes + point_count * 4 * word;
    for (std::size_t s = 0; s < samples_per_frame; ++s) {
      const std::size_t i = f * samples_per_frame + s;
      for (std::size_t c = 0; c < out.channel_count; ++c, at += word) {
        double raw = 0.0;
        if (out.float_data) {
          raw = r.f32(at);
        } else {
          raw = unsigned_data ? static_cast<double>(r.u16(at)) : static_cast<double>(r.i16(at));
        }
        out.values[c * out.sample_count + i] = (raw - out.offset[c]) * out.scale[c];
      }
    }
  }

  const auto company = strings("MANUFACTURER:COMPANY");
  const auto software = strings("MANUFACTURER:SOFTWARE");
  const auto version = strings("MANUFACTURER:VERSION_LABEL");
  out.summary = fmt::format(
      "C3D processor {}, {} data; {} points, {} analog channels at {} Hz, {} frames at {} Hz; "
      "manufacturer {} {} {}",
      processor_code, out.float_data ? "float" : "integer", point_count, out.channel_count, rate,
      frame_count, frame_rate, company.empty() ? "?" : company[0],
      software.empty() ? "" : software[0], version.empty() ? "" : version[0]);
  return out;
}

C3dAnalog read_c3d_analog(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open for reading");
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return read_c3d_analog(std::as_bytes(std::span<const char>(data)), file.string());
}

}  // namespace isokin::acquisition
