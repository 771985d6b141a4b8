// MATLAB .mat files through libmatio: one real numeric N×M matrix, mapped column by column like a
// delimited file (--columns, --scale, --negate, --rate).
#include <matio.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "import/text.h"

namespace isokin::acquisition::import_detail {
namespace {

// A hostile header must not make us allocate: at most 2^27 values (1 GiB as double).
constexpr std::size_t kMaxValues = std::size_t{1} << 27;

// libmatio reports problems by printing them; keep the last one for our own message instead.
thread_local std::string last_matio_message;
void matio_log(int /*level*/, char* message) {
  last_matio_message = message != nullptr ? message : "";
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

bool is_numeric(matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE:
    case MAT_C_SINGLE:
    case MAT_C_INT8:
    case MAT_C_UINT8:
    case MAT_C_INT16:
    case MAT_C_UINT16:
    case MAT_C_INT32:
    case MAT_C_UINT32:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return true;
    default:
      return false;
  }
}

template <typename T>
double element(const void* data, std::size_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(data) + i * sizeof(T), sizeof(T));
  return static_cast<double>(v);
}

double value_at(const matvar_t& v, std::size_t i) {
  switch (v.class_type) {
    case MAT_C_DOUBLE:
      return element<double>(v.data, i);
    case MAT_C_SINGLE:
      return element<float>(v.data, i);
    case MAT_C_INT8:
      return element<std::int8_t>(v.data, i);
    case MAT_C_UINT8:
      return element<std::uint8_t>(v.data, i);
    case MAT_C_INT16:
      return element<std::int16_t>(v.data, i);
    case MAT_C_UINT16:
      return element<std::uint16_t>(v.data, i);
    case MAT_C_INT32:
      return element<std::int32_t>(v.data, i);
    case MAT_C_UINT32:
      return element<std::uint32_t>(v.data, i);
    case MAT_C_INT64:
      return element<std::int64_t>(v.data, i);
    case MAT_C_UINT64:
      return element<std::uint64_t>(v.data, i);
    default:
      return std::nan("");
  }
}

const char* class_name(matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE:
      return "double";
    case MAT_C_SINGLE:
      return "single";
    case MAT_C_INT8:
      return "int8";
    case MAT_C_UINT8:
      return "uint8";
    case MAT_C_INT16:
      return "int16";
    case MAT_C_UINT16:
      return "uint16";
    case MAT_C_INT32:
      return "int32";
    case MAT_C_UINT32:
      return "uint32";
    case MAT_C_INT64:
      return "int64";
    case MAT_C_UINT64:
      return "uint64";
    default:
      return "non-numeric";
  }
}

// libmatio reads a truncated compressed variable without complaint (it inflates what is there),
// so the level-5 file structure is checked first: a 128-byte header, then data elements each
// with an 8-byte tag (type, byte count) whose bytes must all be in the file.
void check_level5_structure(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 128 || bytes.rfind("MATLAB 5.0 MAT-file", 0) != 0) return;  // v7.3: HDF5
  const bool swapped = bytes[126] == 'M' && bytes[127] == 'I';
  if (!swapped && !(bytes[126] == 'I' && bytes[127] == 'M')) {
    fail(file, "byte 126: endian indicator is neither IM nor MI");
  }
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const auto b = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + k]));
      v |= swapped ? b << (8 * (3 - k)) : b << (8 * k);
    }
    return v;
  };
  constexpr std::uint32_t kCompressed = 15;
  std::size_t pos = 128;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 8) {
      fail(file, fmt::format("byte {}: a data element tag is cut off by the end of the file", pos));
    }
    const std::uint32_t type = u32(pos);
    if ((type >> 16) != 0) {  // small data element: 4 bytes of data inside the tag
      pos += 8;
      continue;
    }
    const std::size_t length = u32(pos + 4);
    if (length > bytes.size() - pos - 8) {
      fail(file, fmt::format("byte {}: a data element of {} bytes runs past the end of the file "
                             "({} bytes): truncated",
                             pos, length, bytes.size()));
    }
    pos += 8 + length;
    if (type != kCompressed) pos = (pos + 7) / 8 * 8;  // uncompressed elements are 8-byte aligned
  }
}

}  // namespace

ImportedRecording import_mat(const std::filesystem::path& path, const ImportOptions& options) {
  static std::once_flag log_once;
  std::call_once(log_once, [] { Mat_LogInitFunc("isokin", matio_log); });
  const std::string file = path.string();
  last_matio_message.clear();
  check_level5_structure(file);
  const MatFile mat(Mat_Open(file.c_str(), MAT_ACC_RDONLY));
  if (!mat) {
    fail(file, "not a MATLAB .mat file libmatio can open" +
                   (last_matio_message.empty() ? std::string() : " (" + last_matio_message + ")"));
  }
  // Find the variable: the named one, or the only real numeric 2-D matrix.
  std::string chosen = options.mat_variable;
  std::string names;
  if (chosen.empty()) {
    int candidates = 0;
    while (true) {
      const MatVar info(Mat_VarReadNextInfo(mat.get()));
      if (!info) break;
      const std::string name = info->name != nullptr ? info->name : "";
      names += (names.empty() ? "" : ", ") + name;
      if (is_numeric(info->class_type) && info->rank == 2 && info->isComplex == 0) {
        ++candidates;
        chosen = name;
      }
    }
    if (candidates != 1) {
      fail(file, fmt::format("{} numeric matrices (variables: {}): name one with --variable",
                             candidates, names.empty() ? "none" : names));
    }
  }
  const MatVar info(Mat_VarReadInfo(mat.get(), chosen.c_str()));
  if (!info) fail(file, "no variable '" + chosen + "'");
  if (!is_numeric(info->class_type) || info->rank != 2 || info->isComplex != 0) {
    fail(file, fmt::format("variable '{}' is not a real numeric 2-D matrix", chosen));
  }
  const std::size_t rows = info->dims[0];
  const std::size_t cols = info->dims[1];
  if (rows == 0 || cols == 0 || rows > kMaxValues / cols) {
    fail(file, fmt::format("variable '{}' is {}×{}: empty or too large", chosen, rows, cols));
  }
  const MatVar var(Mat_VarRead(mat.get(), chosen.c_str()));
  if (!var || var->data == nullptr || var->class_type != info->class_type) {
    fail(file, fmt::format("variable '{}' cannot be read{}", chosen,
                           last_matio_message.empty() ? "" : " (" + last_matio_message + ")"));
  }
  NumericTable table;
  table.row_word = "row";
  table.columns.assign(cols, std::vector<double>(rows));
  for (std::size_t c = 0; c < cols; ++c) {
    for (std::size_t r = 0; r < rows; ++r) {
      const double v = value_at(*var, c * rows + r);  // column-major
      if (!std::isfinite(v)) {
        fail(file, fmt::format("variable '{}' row {} column {}: {} is not a finite number", chosen,
                               r + 1, c + 1, v));
      }
      table.columns[c][r] = v;
    }
  }
  for (std::size_t r = 0; r < rows; ++r) table.line_of_row.push_back(r + 1);
  ImportedRecording rec = map_table(file, std::move(table), options);
  rec.format = ImportFormat::kMat;
  const char* header = Mat_GetHeader(mat.get());
  rec.header_text = header != nullptr ? header : "";
  rec.device_model = fmt::format("MATLAB variable {} ({} {}×{})", chosen,
                                 class_name(info->class_type), rows, cols);
  auto provenance = nlohmann::ordered_json::parse(rec.mapping_json);
  provenance["variable"] = chosen;
  provenance["class"] = class_name(info->class_type);
  rec.mapping_json = provenance.dump();
  return rec;
}

}  // namespace isokin::acquisition::import_detail
