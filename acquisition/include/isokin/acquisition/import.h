#pragma once
// Importers for other software's recordings: vendor text exports (Biodex, IsoMed), Vicon Nexus
// device CSV, C3D analog channels, MATLAB .mat matrices and any delimited text. Each parses a
// file into an ImportedRecording in isokin's units and signs (each vendor's signs are mapped once,
// here) and keeps the file's header text; write_imported_session() turns that into a session
// file. The column mappings are documented in docs/import-formats.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/session.h"

namespace isokin::acquisition {

enum class ImportFormat {
  kBiodex,       // Biodex System 3/4 exported TXT: long header, Set Rep mSec TORQUE POSITION …
  kConTrex,      // Con-Trex MJ .CTM export: INI-like header, [data] torque velocity angle
  kBiodex6Line,  // older Biodex text export: 6 header lines, time torque position anat. velocity
  kIsoMed,       // IsoMed 2000 raw export: 10 columns, no header, tenths of units
  kViconCsv,     // Vicon Nexus "Devices" CSV export
  kC3d,          // C3D analog channels, mapped by a JSON profile
  kMat,          // MATLAB .mat numeric matrix (libmatio)
  kDelimited,    // any delimited text, mapped with ImportOptions::columns
};

// "biodex", "contrex", "biodex-6line", "isomed", "vicon-csv", "c3d", "mat", "csv".
std::string_view import_format_name(ImportFormat format);
std::optional<ImportFormat> parse_import_format(std::string_view name);
// All names, comma separated, for messages and help.
std::string import_format_names();

// A file that cannot be imported. what() = "<file>:<line>: column <n> …: <problem>" for text
// (n = 1-based field number), "<file>: byte <offset>: <problem>" for binary files,
// "<file>: <problem>" when no place applies. Bad options throw std::invalid_argument instead.
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Per-sample columns a vendor exports beside the signals (empty when the file has none). The
// session file keeps them as the device's segmentation (format version 3, `repetition` and
// `phase` datasets), each run of one mark named extension or flexion by its angle change.
struct DeviceMarks {
  std::vector<int> set;         // the device's set number
  std::vector<int> repetition;  // the device's repetition number
  // Biodex: 1 = "Away", 2 = "Toward", 0 = neither; IsoMed: the device's phase code as written;
  // Con-Trex: 1 = move 1 (extension), 2 = move 2 (flexion), 0 = outside the device's test.
  std::vector<int> phase;
};

// What a file's own header says about the set and the subject (Con-Trex CTM today). Each field
// given is used for the set unless the user said otherwise (ImportContext); nullopt = not said.
struct HeaderContext {
  std::optional<drivers::Joint> joint;
  std::optional<drivers::Side> side;
  std::optional<drivers::ContractionMode> mode;
  std::optional<double> extension_velocity;  // °/s, magnitude
  std::optional<double> flexion_velocity;    // °/s, magnitude
  std::optional<double> angle_min;           // ° flexion, the programmed end of extension
  std::optional<double> angle_max;           // ° flexion, the programmed end of flexion
  std::optional<double> body_mass_kg;
  std::optional<drivers::Side> injured_side;  // kNone: the header says neither side
};

struct ImportedRecording {
  ImportFormat format = ImportFormat::kDelimited;
  std::filesystem::path source;
  std::string header_text;   // the file's header lines (or C3D/MAT header summary), verbatim
  std::string device_model;  // e.g. "Biodex System 3/4 TXT export"
  double sample_rate_hz = 0.0;
  SetSignals signals;  // isokin units and signs
  std::vector<drivers::ChannelDescription> channels;
  std::vector<drivers::ChannelCalibration> calibration;  // value = gain·raw + offset
  std::string mapping_json;  // how the file was mapped (JSON object text), kept in the session
  DeviceMarks marks;
  HeaderContext header;
  // What the importer kept but doubts, one line each naming the file (e.g. samples beyond the
  // physical limits of drivers/sample.h: kept, marked kStatusCorrupt).
  std::vector<std::string> warnings;
};

// How to read a file. Fields a format does not use are ignored.
struct ImportOptions {
  std::optional<ImportFormat> format;  // nullopt: detected from the content
  // Numeric tables (csv, mat): time=COL,torque=COL,angle=COL,velocity=COL, 1-based numbers or
  // header names (csv). Vicon CSV: optional, header names overriding the default channel names.
  std::string columns;
  std::optional<double> rate_hz;    // csv/mat without a time column
  std::string delimiter = ",";      // csv: one character, or "tab" / "whitespace"
  std::string decimal = ".";        // csv
  int skip_rows = 0;                // csv: lines before the data (or the header)
  std::vector<std::string> scales;  // csv/mat: CHANNEL=GAIN[,OFFSET], value = GAIN·raw + OFFSET
  // Channels whose sign is flipped after the format's own mapping (any format).
  std::vector<std::string> negate;
  std::vector<std::string> limits;  // csv/mat: CHANNEL=MIN,MAX raw range (clipping)
  std::string mat_variable;         // mat: empty = the only numeric matrix in the file
  std::filesystem::path profile;    // c3d: JSON channel profile (required)
  double rom_start_angle = 0.0;     // isomed: joint flexion (°) at position 0
};

// The format a file's content shows; throws ImportError listing the formats when none fits.
ImportFormat detect_import_format(const std::filesystem::path& file);
std::optional<ImportFormat> detect_import_format_in(std::string_view head);

// Reads a whole file. Throws ImportError (malformed content, naming where) or std::runtime_error
// (bad options, unreadable file).
ImportedRecording import_recording(const std::filesystem::path& file, const ImportOptions& options);
// The same for a text or C3D file already in memory (what the fuzzers drive); `name` is used in
// messages. MATLAB files need a path (libmatio reads files only).
ImportedRecording import_recording(std::string_view content, const std::string& name,
                                   const ImportOptions& options);

// What the user says about the set: each field given overrides the file's header
// (ImportedRecording::header); nullopt = the header's value, or the default named here when the
// header does not say either.
struct ImportContext {
  std::optional<drivers::Joint> joint;           // default knee
  std::optional<drivers::Side> side;             // default right
  std::optional<drivers::ContractionMode> mode;  // default concentric/concentric
  std::optional<double> set_velocity;            // °/s, both directions; default 0 = unknown
  std::string subject = "anonymous";
  std::optional<double> body_mass_kg;  // default 0 = unknown
  std::string created_utc;             // empty: now
  // The subject's descriptive fields (format version 4), as in SubjectInfo; empty = not given.
  std::string sex;
  int age_years = 0;
  std::string sport;
  std::optional<drivers::Side> dominant_side;
  std::optional<drivers::Side> injured_side;  // default: not recorded
};

// A one-set session (the current format version) holding the recording. An isometric set's
// hold angle is the median angle of the recording.
Session to_session(const ImportedRecording& recording, const ImportContext& context);
// Several recordings of one subject's visit (e.g. each side and speed exported to its own file)
// as one session, one set per recording in the given order, so that ratios and bilateral
// comparisons across the files are computed. The session's subject comes from contexts[0]; each
// set's joint, side and velocity from its own context. The recordings must come from one device:
// std::invalid_argument naming two files that differ in sample rate, model, channels or
// calibration, or whose headers give the subject different body masses or involved sides.
Session to_session(std::span<const ImportedRecording> recordings,
                   std::span<const ImportContext> contexts);
// Writes the recording(s) as a session file at `path` (replacing one there: the caller decides
// whether it may): written under a unique temporary name in the same directory (PendingFile,
// new_file.h) and renamed at the end, so a failure leaves nothing (and no partial file) behind.
void write_imported_session(const ImportedRecording& recording, const ImportContext& context,
                            const std::filesystem::path& path);
void write_imported_session(std::span<const ImportedRecording> recordings,
                            std::span<const ImportContext> contexts,
                            const std::filesystem::path& path);

}  // namespace isokin::acquisition
