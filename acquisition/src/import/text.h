#pragma once
// Helpers shared by the text importers: lines with their numbers, fields, numbers with a chosen
// decimal mark, errors naming file, line and column. Private to acquisition.

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/import.h"

namespace isokin::acquisition::import_detail {

std::string_view trim(std::string_view s);

// Splits on one character (fields trimmed; a trailing empty field dropped) or, for
// delimiter "whitespace", on runs of blanks.
std::vector<std::string_view> split(std::string_view line, std::string_view delimiter);

// A finite number written with `decimal` as its decimal mark (a leading '+' allowed).
std::optional<double> parse_number(std::string_view text, char decimal = '.');

// The file's lines (without "\r\n" or "\n"), numbered from 1.
class Lines {
 public:
  explicit Lines(std::string_view content);
  [[nodiscard]] std::size_t size() const { return lines_.size(); }
  [[nodiscard]] std::string_view operator[](std::size_t i) const { return lines_[i]; }

 private:
  std::vector<std::string_view> lines_;
};

[[noreturn]] void fail_at(const std::string& file, std::size_t line, std::size_t column,
                          const std::string& problem);
[[noreturn]] void fail_at(const std::string& file, std::size_t line, const std::string& problem);
[[noreturn]] void fail(const std::string& file, const std::string& problem);

// The number in field `column` (0-based) of a line, or an error naming line and column (1-based).
double field_number(const std::string& file, std::size_t line_number,
                    const std::vector<std::string_view>& fields, std::size_t column,
                    const char* what, char decimal = '.');

// d(angle)/dt by central differences (one-sided at the ends), °/s.
std::vector<double> derive_velocity(const std::vector<double>& time,
                                    const std::vector<double>& angle);

// +1 when `velocity` runs with d(angle)/dt, −1 when against it, 0 when it cannot tell (flat).
int velocity_sign_against_angle(const std::vector<double>& time, const std::vector<double>& angle,
                                const std::vector<double>& velocity);

// Flips the channels listed in options.negate after the format's own mapping.
void apply_negate(ImportedRecording& recording, const std::vector<std::string>& negate);

// Checks time increases strictly; `line_of_row` gives each row's line for the message.
void check_time_increases(const std::string& file, const std::vector<double>& time,
                          const std::vector<std::size_t>& line_of_row, std::size_t column);

// Each source column feeds one channel: one column mapped as two channels (torque=2,angle=2)
// would record one signal twice under two names. `column_name(c)` says column c as the user
// knows it ("column 2", "'Torque'"); `mapping` says where the mapping came from ("--columns").
// Throws std::invalid_argument naming the column and both channels.
void check_one_channel_per_column(const std::map<std::string, std::size_t>& channel_columns,
                                  const std::function<std::string(std::size_t)>& column_name,
                                  std::string_view mapping);

// Table-shaped importers (csv in memory, mat): numeric rows mapped with options.columns.
struct NumericTable {
  std::vector<std::string> header;           // names, when the source has them
  std::vector<std::vector<double>> columns;  // column-major
  std::vector<std::size_t> line_of_row;      // for messages (1-based line, or row)
  std::string row_word = "line";             // "line" for text, "row" for matrices
};
ImportedRecording map_table(const std::string& file, NumericTable table,
                            const ImportOptions& options);

ImportedRecording import_delimited(std::string_view content, const std::string& file,
                                   const ImportOptions& options);
ImportedRecording import_biodex(std::string_view content, const std::string& file);
ImportedRecording import_biodex_6line(std::string_view content, const std::string& file);
// Con-Trex MJ: the file starts with a "[Measurement]" section holding a "samplingrate" line.
bool is_contrex_header(std::string_view head);
ImportedRecording import_contrex(std::string_view content, const std::string& file);
ImportedRecording import_isomed(std::string_view content, const std::string& file,
                                const ImportOptions& options);
ImportedRecording import_vicon_csv(std::string_view content, const std::string& file,
                                   const ImportOptions& options);
ImportedRecording import_c3d(std::string_view content, const std::string& file,
                             const ImportOptions& options);
ImportedRecording import_mat(const std::filesystem::path& file, const ImportOptions& options);

}  // namespace isokin::acquisition::import_detail
