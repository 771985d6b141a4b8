#include "isokin/acquisition/session_file.h"

#include <fmt/core.h>
#include <hdf5.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "crashed_file.h"
#include "hdf5_handles.h"
#include "isokin/drivers/domain.h"
#include "kill_point.h"

// Layout and units are specified in docs/file-format.md; keep the two in step.

namespace isokin::acquisition {

namespace fs = std::filesystem;
using Kind = SessionFileError::Kind;

namespace {

std::string on_one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

}  // namespace

SessionFileError::SessionFileError(Kind kind, const fs::path& path, const std::string& problem)
    : std::runtime_error(on_one_line(path.string() + ": " + problem)), kind_(kind), path_(path) {}

// ---------------------------------------------------------------------------------------------
// hdf5_handles.h

namespace hdf5 {

void silence_error_printing() {
  thread_local bool silenced = false;
  if (!silenced) silenced = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
}

namespace {

struct StackReason {
  std::string innermost;
  std::string os_message;
};

// Called innermost error first (H5E_WALK_UPWARD).
herr_t collect_reason(unsigned /*depth*/, const H5E_error2_t* error, void* data) noexcept {
  auto& reason = *static_cast<StackReason*>(data);
  if (error == nullptr || error->desc == nullptr) return 0;
  const std::string_view description(error->desc);
  if (reason.innermost.empty()) reason.innermost = description;
  // The POSIX file driver embeds strerror(errno) as "error message = '...'": the words a user
  // can act on ("No space left on device"), without HDF5's addresses and flags.
  constexpr std::string_view kMarker = "error message = '";
  if (const auto start = description.find(kMarker);
      reason.os_message.empty() && start != std::string_view::npos) {
    const auto text = description.substr(start + kMarker.size());
    reason.os_message = text.substr(0, text.find('\''));
  }
  return 0;
}

}  // namespace

std::string error_stack_reason() {
  StackReason reason;
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_reason, &reason) < 0) return {};
  return reason.os_message.empty() ? reason.innermost : reason.os_message;
}

void ErrorContext::fail(const std::string& problem) const {
  throw SessionFileError(kind_, path_, problem);
}

void ErrorContext::fail_with_hdf5_reason(std::string_view action) const {
  // Read the stack before anything else calls HDF5: every API call clears it.
  const std::string reason = error_stack_reason();
  fail(reason.empty() ? std::string(action) : fmt::format("{}: {}", action, reason));
}

}  // namespace hdf5

namespace {

using hdf5::ErrorContext;

// HDF5 1.10 closes the files still open from an atexit handler and crashes there when an earlier
// close of the same file failed (CVE-2020-10812, fixed in 1.14), which is what a full disk
// causes. This code closes every file it opens, except one whose write failed in SWMR mode,
// which it abandons on purpose (SessionWriter::Impl::run), so the handler has nothing useful to
// do. It can only be turned off before HDF5's first call, hence at static initialisation.
[[maybe_unused]] const bool kHdf5ExitHandlerDisabled = H5dont_atexit() >= 0;

// ---------------------------------------------------------------------------------------------
// Layout constants (docs/file-format.md)

constexpr std::string_view kFormatName = "isokin";
constexpr const char* kSetsGroup = "sets";
constexpr const char* kEventsGroup = "/events";       // version 2; fixed-length strings from 3
constexpr const char* kConsumersGroup = "consumers";  // in each ended set, version 2
constexpr std::string_view kConsumerPrefix = "consumer_";
constexpr std::string_view kSetPrefix = "set_";
constexpr std::string_view kChannelPrefix = "channel_";
constexpr std::string_view kCalibrationPrefix = "calibration_";
constexpr const char* kUnitSuffix = "_unit";
// /subject age (version 4): whole years, in UDUNITS' spelling of the (Julian) year.
constexpr std::string_view kAgeUnit = "year";
constexpr std::array<std::string_view, 3> kSexValues = {"female", "male", "other"};
// What read_session reports for a set whose writer stopped before end_set.
constexpr const char* kNotEndedReason = "not ended: recording stopped before the end of the set";
// What salvage_session reports for a set whose last samples lie past the end of a file cut short.
constexpr const char* kCutShortReason = "cut short: the file ends before the last samples";

struct ColumnLayout {
  const char* name;
  const char* unit;
  const char* description;
};

// Per-set datasets, in the order of SetSignals' members.
constexpr std::array<ColumnLayout, 5> kColumns = {{
    {"time", "s", "time since the start of the set"},
    {"torque", "N\u00b7m", "moment about the joint axis; positive = extensor moment"},
    {"angle", "deg", "joint flexion; 0 = full extension"},
    {"velocity", "deg/s", "d(angle)/dt; positive toward flexion"},
    {"status", "1",
     "bit set: 1 torque clipped, 2 angle clipped, 4 samples lost before this one, "
     "8 flagged unreliable by the device"},
}};
constexpr std::size_t kStatusColumn = 4;

// Optional per-set datasets (version 3): the device's own segmentation, one row per sample.
constexpr std::array<ColumnLayout, 2> kDeviceSegmentColumns = {{
    {"repetition", "1", "the device's own repetition number; 0 = none"},
    {"phase", "1",
     "the device's own movement phase: 0 none, 1 extension (toward 0 deg), 2 flexion"},
}};

// Per-set scalar dataset: how many rows are known to be on disk, updated after each successful
// flush. Readers trust no more rows than this in a set that did not end, because a writer
// killed (or failing) mid-flush can leave some columns further on disk than others.
constexpr const char* kFlushedRows = "flushed_rows";
constexpr const char* kFlushedRowsDescription =
    "rows known to be on disk (written after each flush); equals sample_count once the set ended";

// A reader allocates at most this many rows per dataset, whatever a file declares.
constexpr hsize_t kMaxRowsPerSet = hsize_t{1} << 27;  // 134 million: 18 h at 2 kHz
// Declared sizes beyond what is stored are believed up to this slack, so a file cut short by a
// crash still reads, but a hostile "10^12 rows" does not make us allocate terabytes.
constexpr hsize_t kDeclaredSizeSlackBytes = hsize_t{16} << 20;
// Allowance for compressed copies (e.g. after h5repack); sensor data compresses far less.
constexpr hsize_t kMaxCompressionRatio = 64;
constexpr std::size_t kMaxFixedStringBytes = std::size_t{16} << 20;

std::string set_group_name(int index) {
  return fmt::format("{}{:03d}", kSetPrefix, index);
}
std::string indexed_name(std::string_view prefix, std::size_t index) {
  return fmt::format("{}{:03d}", prefix, index);
}
std::string child_path(std::string_view parent, std::string_view name) {
  return parent == "/" ? fmt::format("/{}", name) : fmt::format("{}/{}", parent, name);
}

hid_t column_memory_type(std::size_t column) {
  return column == kStatusColumn ? H5T_NATIVE_UINT32 : H5T_NATIVE_DOUBLE;
}
hid_t column_file_type(std::size_t column) {
  return column == kStatusColumn ? H5T_STD_U32LE : H5T_IEEE_F64LE;
}

void clear(SetSignals& signals) {
  signals.time.clear();
  signals.torque.clear();
  signals.angle.clear();
  signals.velocity.clear();
  signals.status.clear();
  signals.device_segments.clear();
}

// /events datasets (version 2), one row per event.
enum class EventColumn { kTime, kSetIndex, kKind, kDetail };
constexpr std::array<ColumnLayout, 4> kEventColumns = {{
    {"time", "s", "time since the session started (host monotonic clock)"},
    {"set_index", "1", "index of the set the event belongs to; -1 = none"},
    {"kind", "", "what happened: set-start, set-end, rest, pause, resume, abort, mark, drops, …"},
    {"detail", "", "free text about the event; may be empty"},
}};
constexpr hsize_t kEventChunkRows = 64;
constexpr std::array<std::size_t, 2> kEventTextBytes = {kEventKindBytes, kEventDetailBytes};
using EventDatasets = std::array<hdf5::Dataset, kEventColumns.size()>;
using DeviceSegmentDatasets = std::array<hdf5::Dataset, kDeviceSegmentColumns.size()>;

// ---------------------------------------------------------------------------------------------
// Files

hdf5::PropertyList file_access(const ErrorContext& ctx, bool latest_format) {
  const std::string_view action = "cannot set up file access";
  hdf5::PropertyList fapl{ctx.check_id(H5Pcreate(H5P_FILE_ACCESS), action)};
  // SWMR needs the newest object formats (superblock 3, extensible-array chunk index).
  if (latest_format) {
    ctx.check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), action);
  }
  // A closed file is really closed even if a handle leaked, so the next open never finds it
  // still open in this process with other flags.
  ctx.check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), action);
  // Lock where the file system can, but still work on ones that cannot (some network shares).
  ctx.check(H5Pset_file_locking(fapl.get(), true, true), action);
  return fapl;
}

hdf5::File open_for_writing(const ErrorContext& ctx, unsigned flags) {
  const hdf5::PropertyList fapl = file_access(ctx, true);
  return hdf5::File{ctx.check_id(H5Fopen(ctx.path().c_str(), flags, fapl.get()),
                                 "cannot open the file for writing")};
}

void close_checked(const ErrorContext& ctx, hdf5::File& file) {
  ctx.check(file.close(), "cannot close the file");
}

// ---------------------------------------------------------------------------------------------
// Writing attributes. Every attribute is scalar; strings are variable-length UTF-8.

hdf5::Datatype utf8_string_type(const ErrorContext& ctx) {
  const std::string_view action = "cannot make the string type";
  hdf5::Datatype type{ctx.check_id(H5Tcopy(H5T_C_S1), action)};
  ctx.check(H5Tset_size(type.get(), H5T_VARIABLE), action);
  ctx.check(H5Tset_cset(type.get(), H5T_CSET_UTF8), action);
  return type;
}

// Creates or replaces a scalar attribute. where names the object in messages.
void write_scalar_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                            const std::string& name, hid_t file_type, hid_t memory_type,
                            const void* value) {
  const std::string action = fmt::format("cannot write attribute '{}' of {}", name, where);
  if (ctx.check_tri(H5Aexists(object, name.c_str()), action)) {
    // Of the same type: overwritten in place. Deleted and created again, HDF5 puts the new
    // one in a new part of the object header at the end of the file, so that a file cut short
    // there (by a crash or a copy) loses the whole object, the root group when it is `complete`.
    hdf5::Attribute existing{ctx.check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), action)};
    const hdf5::Datatype existing_type{ctx.check_id(H5Aget_type(existing.get()), action)};
    if (ctx.check_tri(H5Tequal(existing_type.get(), file_type), action)) {
      ctx.check(H5Awrite(existing.get(), memory_type, value), action);
      ctx.check(existing.close(), action);
      return;
    }
    ctx.check(existing.close(), action);
    ctx.check(H5Adelete(object, name.c_str()), action);
  }
  const hdf5::Dataspace space{ctx.check_id(H5Screate(H5S_SCALAR), action)};
  hdf5::Attribute attribute{ctx.check_id(
      H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), action)};
  ctx.check(H5Awrite(attribute.get(), memory_type, value), action);
  ctx.check(attribute.close(), action);
}

void write_string_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                            const std::string& name, const std::string& value) {
  // Variable-length strings end at the first NUL: refuse rather than silently truncate.
  if (value.find('\0') != std::string::npos) {
    throw std::invalid_argument(
        fmt::format("attribute '{}' of {} contains a NUL character", name, where));
  }
  const hdf5::Datatype type = utf8_string_type(ctx);
  const char* text = value.c_str();
  write_scalar_attribute(ctx, object, where, name, type.get(), type.get(), &text);
}

void write_double_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                            const std::string& name, double value) {
  write_scalar_attribute(ctx, object, where, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void write_int32_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                           const std::string& name, std::int32_t value) {
  write_scalar_attribute(ctx, object, where, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

void write_uint64_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                            const std::string& name, std::uint64_t value) {
  write_scalar_attribute(ctx, object, where, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

// A physical quantity: the number, and its unit in the attribute "<name>_unit".
void write_quantity(const ErrorContext& ctx, hid_t object, std::string_view where,
                    const std::string& name, double value, const std::string& unit) {
  write_double_attribute(ctx, object, where, name, value);
  write_string_attribute(ctx, object, where, name + kUnitSuffix, unit);
}

hdf5::Group create_group(const ErrorContext& ctx, hid_t parent, const std::string& path) {
  return hdf5::Group{
      ctx.check_id(H5Gcreate2(parent, path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   "cannot create group " + path)};
}

// Fixed-length UTF-8 text, NUL-padded (no terminator needed when the text fills it).
hdf5::Datatype fixed_string_type(const ErrorContext& ctx, std::size_t bytes) {
  const std::string_view action = "cannot make the string type";
  hdf5::Datatype type{ctx.check_id(H5Tcopy(H5T_C_S1), action)};
  ctx.check(H5Tset_size(type.get(), bytes), action);
  ctx.check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), action);
  ctx.check(H5Tset_cset(type.get(), H5T_CSET_UTF8), action);
  return type;
}

// A fixed-length string attribute exactly as long as its text (version 4): read back without
// HDF5's global heap, where crafted variable-length attributes made libhdf5 hang
// (docs/security.md). value is not empty and has no NUL (check_subject_info).
void write_fixed_string_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                                  const std::string& name, const std::string& value) {
  const hdf5::Datatype type = fixed_string_type(ctx, value.size());
  write_scalar_attribute(ctx, object, where, name, type.get(), type.get(), value.data());
}

// File (and memory) type of an /events column; string_type keeps a string type alive.
hid_t event_column_type(const ErrorContext& ctx, std::size_t column, hdf5::Datatype& string_type) {
  if (column == static_cast<std::size_t>(EventColumn::kTime)) return H5T_IEEE_F64LE;
  if (column == static_cast<std::size_t>(EventColumn::kSetIndex)) return H5T_STD_I32LE;
  string_type = fixed_string_type(ctx, kEventTextBytes[column - 2]);
  return string_type.get();
}

// An empty one-dimensional dataset that grows by appending rows (the per-set signals, events
// and device segmentation), with its unit and description. nan_fill: rows extended but never
// written (a writer killed mid-flush) read as NaN, not as plausible zeros.
// Returns the new dataset, still open.
hdf5::Dataset create_extensible_dataset(const ErrorContext& ctx, hid_t parent,
                                        const std::string& parent_path, const ColumnLayout& layout,
                                        hid_t file_type, hsize_t chunk_rows, bool nan_fill) {
  const std::string path = child_path(parent_path, layout.name);
  const std::string action = "cannot create dataset " + path;
  const hsize_t initial_rows = 0;
  const hsize_t max_rows = H5S_UNLIMITED;
  const hdf5::Dataspace space{ctx.check_id(H5Screate_simple(1, &initial_rows, &max_rows), action)};
  const hdf5::PropertyList creation{ctx.check_id(H5Pcreate(H5P_DATASET_CREATE), action)};
  ctx.check(H5Pset_chunk(creation.get(), 1, &chunk_rows), action);
  if (nan_fill) {
    const double not_written = std::numeric_limits<double>::quiet_NaN();
    ctx.check(H5Pset_fill_value(creation.get(), H5T_NATIVE_DOUBLE, &not_written), action);
  }
  hdf5::Dataset dataset{ctx.check_id(H5Dcreate2(parent, layout.name, file_type, space.get(),
                                                H5P_DEFAULT, creation.get(), H5P_DEFAULT),
                                     action)};
  write_string_attribute(ctx, dataset.get(), path, "unit", layout.unit);
  write_string_attribute(ctx, dataset.get(), path, "description", layout.description);
  return dataset;
}

void create_event_datasets(const ErrorContext& ctx, hid_t file) {
  const hdf5::Group events = create_group(ctx, file, kEventsGroup);
  for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
    hdf5::Datatype string_type;
    hdf5::Dataset dataset =
        create_extensible_dataset(ctx, events.get(), kEventsGroup, kEventColumns[column],
                                  event_column_type(ctx, column, string_type), kEventChunkRows,
                                  column == static_cast<std::size_t>(EventColumn::kTime));
    ctx.check(dataset.close(),
              "cannot create dataset " + child_path(kEventsGroup, kEventColumns[column].name));
  }
}

// The subject's descriptive fields (version 4), each only when recorded.
void write_subject_details(const ErrorContext& ctx, hid_t subject, const SubjectInfo& info) {
  constexpr std::string_view where = "/subject";
  if (!info.sex.empty()) write_fixed_string_attribute(ctx, subject, where, "sex", info.sex);
  if (info.age_years > 0) {
    write_double_attribute(ctx, subject, where, "age", static_cast<double>(info.age_years));
    write_fixed_string_attribute(ctx, subject, where, std::string("age") + kUnitSuffix,
                                 std::string(kAgeUnit));
  }
  if (!info.sport.empty()) write_fixed_string_attribute(ctx, subject, where, "sport", info.sport);
  if (info.dominant_side) {
    write_fixed_string_attribute(ctx, subject, where, "dominant_side",
                                 std::string(drivers::to_string(*info.dominant_side)));
  }
  if (info.injured_side) {
    write_fixed_string_attribute(ctx, subject, where, "injured_side",
                                 std::string(drivers::to_string(*info.injured_side)));
  }
}

void write_metadata(const ErrorContext& ctx, hid_t file, const SessionInfo& info) {
  write_string_attribute(ctx, file, "/", "format", std::string(kFormatName));
  write_int32_attribute(ctx, file, "/", "format_version", kFormatVersion);
  write_string_attribute(ctx, file, "/", "created_utc", info.created_utc);
  write_string_attribute(ctx, file, "/", "software", info.software);
  write_int32_attribute(ctx, file, "/", "complete", 0);

  {
    const hdf5::Group subject = create_group(ctx, file, "/subject");
    write_string_attribute(ctx, subject.get(), "/subject", "id", info.subject.id);
    write_quantity(ctx, subject.get(), "/subject", "body_mass", info.subject.body_mass_kg, "kg");
    // Personal data only when given: files without it have no such attributes at all.
    if (!info.subject.name.empty()) {
      write_string_attribute(ctx, subject.get(), "/subject", "name", info.subject.name);
    }
    if (!info.subject.birth_date.empty()) {
      write_string_attribute(ctx, subject.get(), "/subject", "birth_date", info.subject.birth_date);
    }
    write_subject_details(ctx, subject.get(), info.subject);
  }

  {
    const drivers::DeviceDescription& device = info.device;
    const hdf5::Group group = create_group(ctx, file, "/device");
    write_string_attribute(ctx, group.get(), "/device", "driver", device.driver);
    write_string_attribute(ctx, group.get(), "/device", "model", device.model);
    write_string_attribute(ctx, group.get(), "/device", "serial", device.serial);
    write_quantity(ctx, group.get(), "/device", "sample_rate", device.sample_rate_hz, "Hz");

    const hdf5::Group channels = create_group(ctx, file, "/device/channels");
    for (std::size_t i = 0; i < device.channels.size(); ++i) {
      const drivers::ChannelDescription& channel = device.channels[i];
      const std::string path = child_path("/device/channels", indexed_name(kChannelPrefix, i));
      const hdf5::Group group_i = create_group(ctx, file, path);
      write_int32_attribute(ctx, group_i.get(), path, "index", static_cast<std::int32_t>(i));
      write_string_attribute(ctx, group_i.get(), path, "name", channel.name);
      write_string_attribute(ctx, group_i.get(), path, "unit", channel.unit);
      write_quantity(ctx, group_i.get(), path, "range_min", channel.range_min, channel.unit);
      write_quantity(ctx, group_i.get(), path, "range_max", channel.range_max, channel.unit);
    }

    const hdf5::Group calibrations = create_group(ctx, file, "/device/calibrations");
    for (std::size_t i = 0; i < device.calibration.size(); ++i) {
      const drivers::ChannelCalibration& calibration = device.calibration[i];
      const std::string path =
          child_path("/device/calibrations", indexed_name(kCalibrationPrefix, i));
      const hdf5::Group group_i = create_group(ctx, file, path);
      write_int32_attribute(ctx, group_i.get(), path, "index", static_cast<std::int32_t>(i));
      write_string_attribute(ctx, group_i.get(), path, "channel", calibration.channel);
      write_double_attribute(ctx, group_i.get(), path, "gain", calibration.gain);
      write_double_attribute(ctx, group_i.get(), path, "offset", calibration.offset);
    }
  }

  {
    const hdf5::Group protocol = create_group(ctx, file, "/protocol");
    write_string_attribute(ctx, protocol.get(), "/protocol", "name", info.protocol_name);
    write_string_attribute(ctx, protocol.get(), "/protocol", "json", info.protocol_json);
  }

  const hdf5::Group sets = create_group(ctx, file, std::string("/") + kSetsGroup);
  create_event_datasets(ctx, file);
}

void write_set_attributes(const ErrorContext& ctx, hid_t set, const std::string& path,
                          const SetInfo& info) {
  const drivers::MotionSetpoint& setpoint = info.setpoint;
  write_int32_attribute(ctx, set, path, "index", info.index);
  write_string_attribute(ctx, set, path, "joint", std::string(drivers::to_string(setpoint.joint)));
  write_string_attribute(ctx, set, path, "side", std::string(drivers::to_string(setpoint.side)));
  write_string_attribute(ctx, set, path, "mode", std::string(drivers::to_string(setpoint.mode)));
  write_quantity(ctx, set, path, "extension_velocity", setpoint.extension_velocity, "deg/s");
  write_quantity(ctx, set, path, "flexion_velocity", setpoint.flexion_velocity, "deg/s");
  write_quantity(ctx, set, path, "angle_min", setpoint.angle_min, "deg");
  write_quantity(ctx, set, path, "angle_max", setpoint.angle_max, "deg");
  write_int32_attribute(ctx, set, path, "repetitions", setpoint.repetitions);
  write_quantity(ctx, set, path, "hold_angle", setpoint.hold_angle, "deg");
  write_quantity(ctx, set, path, "contraction_time", setpoint.contraction_time, "s");
  write_int32_attribute(ctx, set, path, "passive", setpoint.passive ? 1 : 0);
  write_string_attribute(ctx, set, path, "kind", info.kind);
  write_string_attribute(ctx, set, path, "label", info.label);
  write_int32_attribute(ctx, set, path, "protocol_set", info.protocol_set);
  write_int32_attribute(ctx, set, path, "attempt", info.attempt);
  // Overwritten by end_set; a set without end-of-set attributes was interrupted.
  write_int32_attribute(ctx, set, path, "complete", 0);
}

hdf5::Dataset create_column(const ErrorContext& ctx, hid_t set, const std::string& set_path,
                            std::size_t column, hsize_t chunk_rows) {
  return create_extensible_dataset(ctx, set, set_path, kColumns[column], column_file_type(column),
                                   chunk_rows, column != kStatusColumn);
}

hid_t device_segment_file_type(std::size_t column) {
  return column == 0 ? H5T_STD_I32LE : H5T_STD_I8LE;
}
hid_t device_segment_memory_type(std::size_t column) {
  return column == 0 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT8;
}

hdf5::Dataset create_flushed_rows(const ErrorContext& ctx, hid_t set, const std::string& set_path) {
  const std::string path = child_path(set_path, kFlushedRows);
  const std::string action = "cannot create dataset " + path;
  const hdf5::Dataspace space{ctx.check_id(H5Screate(H5S_SCALAR), action)};
  const hdf5::PropertyList creation{ctx.check_id(H5Pcreate(H5P_DATASET_CREATE), action)};
  // Storage allocated now and written in place: a SWMR writer may update it, never reshape it.
  ctx.check(H5Pset_layout(creation.get(), H5D_CONTIGUOUS), action);
  ctx.check(H5Pset_alloc_time(creation.get(), H5D_ALLOC_TIME_EARLY), action);
  hdf5::Dataset dataset{ctx.check_id(H5Dcreate2(set, kFlushedRows, H5T_STD_U64LE, space.get(),
                                                H5P_DEFAULT, creation.get(), H5P_DEFAULT),
                                     action)};
  const std::uint64_t none = 0;
  ctx.check(H5Dwrite(dataset.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &none),
            action);
  write_string_attribute(ctx, dataset.get(), path, "unit", "1");
  write_string_attribute(ctx, dataset.get(), path, "description", kFlushedRowsDescription);
  return dataset;
}

// Extends a 1-D dataset from `offset` rows to `offset + count` and writes `data` there.
void write_rows(const ErrorContext& ctx, hid_t dataset, const std::string& path, hid_t memory_type,
                hsize_t offset, hsize_t count, const void* data) {
  const std::string action = "cannot write " + path;
  const hsize_t rows = offset + count;
  ctx.check(H5Dset_extent(dataset, &rows), action);
  const hdf5::Dataspace file_space{ctx.check_id(H5Dget_space(dataset), action)};
  ctx.check(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &offset, nullptr, &count, nullptr),
      action);
  const hdf5::Dataspace memory_space{ctx.check_id(H5Screate_simple(1, &count, nullptr), action)};
  ctx.check(H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
            action);
}

// An event the file can hold: a kind that fits its column, no NUL (fixed-length strings end at
// the first). A longer detail is fine: it is cut when written.
void check_event(const Event& event) {
  for (const std::string* text : {&event.kind, &event.detail}) {
    if (text->find('\0') != std::string::npos) {
      throw std::invalid_argument(fmt::format("event '{}' contains a NUL character", event.kind));
    }
  }
  if (event.kind.empty() || event.kind.size() > kEventKindBytes) {
    throw std::invalid_argument(fmt::format("event kind '{}' is empty or longer than {} bytes",
                                            event.kind, kEventKindBytes));
  }
}

// The fixed-length form of a checked event's text. A detail longer than its column is cut at a
// UTF-8 character boundary and marked with "…" rather than refused, so a long device message is
// never the reason an event is lost.
// `into` is the row's zeroed bytes: NUL padding, no terminator needed (H5T_STR_NULLPAD).
void pack_event_text(const Event& event, std::size_t column, char* into) {
  const std::string& text = column == 2 ? event.kind : event.detail;
  const std::size_t bytes = kEventTextBytes[column - 2];
  if (text.size() <= bytes) {
    std::copy_n(text.data(), text.size(), into);
    return;
  }
  constexpr std::string_view kEllipsis = "\u2026";
  std::size_t keep = bytes - kEllipsis.size();
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0U) == 0x80U) --keep;
  std::copy_n(text.data(), keep, into);
  std::copy_n(kEllipsis.data(), kEllipsis.size(), into + keep);
}

EventDatasets open_event_datasets(const ErrorContext& ctx, hid_t file) {
  EventDatasets datasets;
  for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
    const std::string path = child_path(kEventsGroup, kEventColumns[column].name);
    datasets[column] = hdf5::Dataset{
        ctx.check_id(H5Dopen2(file, path.c_str(), H5P_DEFAULT), "cannot open " + path)};
  }
  return datasets;
}

// Appends events to the /events datasets; works in SWMR mode too (fixed-size rows only).
void append_events(const ErrorContext& ctx, const EventDatasets& datasets,
                   const std::vector<Event>& events) {
  if (events.empty()) return;
  const std::size_t n = events.size();
  std::vector<double> time(n);
  std::vector<std::int32_t> set_index(n);
  std::array<std::vector<char>, 2> text = {std::vector<char>(n * kEventKindBytes, '\0'),
                                           std::vector<char>(n * kEventDetailBytes, '\0')};
  for (std::size_t i = 0; i < n; ++i) {
    time[i] = events[i].time;
    set_index[i] = events[i].set_index;
    for (std::size_t column = 2; column < 4; ++column) {
      pack_event_text(events[i], column, text[column - 2].data() + i * kEventTextBytes[column - 2]);
    }
  }
  const std::array<const void*, 4> data = {time.data(), set_index.data(), text[0].data(),
                                           text[1].data()};
  for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
    const std::string path = child_path(kEventsGroup, kEventColumns[column].name);
    hdf5::Datatype string_type;
    const hid_t memory_type = column == 0   ? H5T_NATIVE_DOUBLE
                              : column == 1 ? H5T_NATIVE_INT32
                                            : event_column_type(ctx, column, string_type);
    const hdf5::Dataspace space{
        ctx.check_id(H5Dget_space(datasets[column].get()), "cannot read " + path)};
    hsize_t rows = 0;
    ctx.check(H5Sget_simple_extent_dims(space.get(), &rows, nullptr), "cannot read " + path);
    write_rows(ctx, datasets[column].get(), path, memory_type, rows, n, data[column]);
  }
}

// Appends events to a file open outside SWMR mode.
void append_events(const ErrorContext& ctx, hid_t file, const std::vector<Event>& events) {
  if (events.empty()) return;
  EventDatasets datasets = open_event_datasets(ctx, file);
  append_events(ctx, datasets, events);
  for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
    ctx.check(datasets[column].close(),
              "cannot close " + child_path(kEventsGroup, kEventColumns[column].name));
  }
}

void write_consumer_stats(const ErrorContext& ctx, hid_t set, const std::string& set_path,
                          const std::vector<ConsumerStats>& consumers) {
  const std::string path = child_path(set_path, kConsumersGroup);
  if (ctx.check_tri(H5Lexists(set, kConsumersGroup, H5P_DEFAULT), "cannot look up " + path)) {
    return;  // end_set retried after a failure: written already
  }
  const hdf5::Group group = create_group(ctx, set, path);
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    const std::string consumer_path = child_path(path, indexed_name(kConsumerPrefix, i));
    const hdf5::Group consumer = create_group(ctx, set, consumer_path);
    write_int32_attribute(ctx, consumer.get(), consumer_path, "index",
                          static_cast<std::int32_t>(i));
    write_string_attribute(ctx, consumer.get(), consumer_path, "name", consumers[i].name);
    write_uint64_attribute(ctx, consumer.get(), consumer_path, "delivered", consumers[i].delivered);
    write_uint64_attribute(ctx, consumer.get(), consumer_path, "dropped", consumers[i].dropped);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading. Everything is checked: a file may come from anywhere.

bool has_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                   const std::string& name) {
  return ctx.check_tri(H5Aexists(object, name.c_str()),
                       fmt::format("cannot look up attribute '{}' of {}", name, where));
}

struct OpenAttribute {
  hdf5::Attribute attribute;
  hdf5::Datatype type;
};

// Opens a one-value attribute, failing with "<where> has no attribute '<name>'" if absent.
OpenAttribute open_single_value_attribute(const ErrorContext& ctx, hid_t object,
                                          std::string_view where, const std::string& name) {
  if (!has_attribute(ctx, object, where, name)) {
    ctx.fail(fmt::format("{} has no attribute '{}'", where, name));
  }
  const std::string action = fmt::format("cannot read attribute '{}' of {}", name, where);
  OpenAttribute open;
  open.attribute =
      hdf5::Attribute{ctx.check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), action)};
  open.type = hdf5::Datatype{ctx.check_id(H5Aget_type(open.attribute.get()), action)};
  const hdf5::Dataspace space{ctx.check_id(H5Aget_space(open.attribute.get()), action)};
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    ctx.fail(fmt::format("attribute '{}' of {} is not a single value", name, where));
  }
  return open;
}

std::string read_string_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                                  const std::string& name) {
  const OpenAttribute open = open_single_value_attribute(ctx, object, where, name);
  const std::string action = fmt::format("cannot read attribute '{}' of {}", name, where);
  if (H5Tget_class(open.type.get()) != H5T_STRING) {
    ctx.fail(fmt::format("attribute '{}' of {} is not a string", name, where));
  }
  // Same type in memory as on disk: HDF5 does not convert between character sets.
  const hdf5::Datatype memory_type{ctx.check_id(H5Tcopy(open.type.get()), action)};
  if (ctx.check_tri(H5Tis_variable_str(open.type.get()), action)) {
    char* text = nullptr;
    ctx.check(H5Aread(open.attribute.get(), memory_type.get(), &text), action);
    std::string value = text == nullptr ? std::string() : std::string(text);
    // The library allocated the string; it must also free it.
    H5free_memory(text);
    return value;
  }
  // Fixed-length strings (other writers, e.g. MATLAB) are NUL- or space-padded.
  const std::size_t size = H5Tget_size(open.type.get());
  if (size == 0 || size > kMaxFixedStringBytes) {
    ctx.fail(fmt::format("attribute '{}' of {} has an implausible size", name, where));
  }
  std::string value(size, '\0');
  ctx.check(H5Aread(open.attribute.get(), memory_type.get(), value.data()), action);
  value.resize(std::min(value.find('\0'), value.size()));
  if (H5Tget_strpad(open.type.get()) == H5T_STR_SPACEPAD) {
    value.erase(value.find_last_not_of(' ') + 1);
  }
  return value;
}

template <typename Number>
Number read_number_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                             const std::string& name, hid_t memory_type, bool integer_only) {
  const OpenAttribute open = open_single_value_attribute(ctx, object, where, name);
  const H5T_class_t type_class = H5Tget_class(open.type.get());
  if (type_class != H5T_INTEGER && (integer_only || type_class != H5T_FLOAT)) {
    ctx.fail(fmt::format("attribute '{}' of {} is not {}", name, where,
                         integer_only ? "an integer" : "a number"));
  }
  Number value{};
  ctx.check(H5Aread(open.attribute.get(), memory_type, &value),
            fmt::format("cannot read attribute '{}' of {}", name, where));
  return value;
}

double read_double_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                             const std::string& name) {
  return read_number_attribute<double>(ctx, object, where, name, H5T_NATIVE_DOUBLE, false);
}

std::uint64_t read_uint64_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                                    const std::string& name) {
  return read_number_attribute<std::uint64_t>(ctx, object, where, name, H5T_NATIVE_UINT64, true);
}

int read_int_attribute(const ErrorContext& ctx, hid_t object, std::string_view where,
                       const std::string& name, std::int64_t min = INT_MIN) {
  const auto value =
      read_number_attribute<std::int64_t>(ctx, object, where, name, H5T_NATIVE_INT64, true);
  if (value < min || value > INT_MAX) {
    ctx.fail(fmt::format("attribute '{}' of {} is out of range ({})", name, where, value));
  }
  return static_cast<int>(value);
}

// A number whose "<name>_unit" attribute must be expected_unit (units are fixed in version 1).
double read_quantity(const ErrorContext& ctx, hid_t object, std::string_view where,
                     const std::string& name, std::string_view expected_unit) {
  const double value = read_double_attribute(ctx, object, where, name);
  const std::string unit = read_string_attribute(ctx, object, where, name + kUnitSuffix);
  if (unit != expected_unit) {
    ctx.fail(fmt::format("attribute '{}{}' of {} is '{}', expected '{}'", name, kUnitSuffix, where,
                         unit, expected_unit));
  }
  return value;
}

// Version-4 text attributes are fixed-length strings; a variable-length one is refused before
// its text is read (that read goes through HDF5's global heap, docs/security.md).
std::string read_fixed_string_attribute(const ErrorContext& ctx, hid_t object,
                                        std::string_view where, const std::string& name) {
  {
    const OpenAttribute open = open_single_value_attribute(ctx, object, where, name);
    if (H5Tget_class(open.type.get()) == H5T_STRING &&
        ctx.check_tri(H5Tis_variable_str(open.type.get()),
                      fmt::format("cannot read attribute '{}' of {}", name, where))) {
      ctx.fail(
          fmt::format("attribute '{}' of {} is a variable-length string; format version 4 "
                      "stores it as a fixed-length one",
                      name, where));
    }
  }
  return read_string_attribute(ctx, object, where, name);
}

// The subject's descriptive fields (version 4); absent ones stay "not recorded".
void read_subject_details(const ErrorContext& ctx, hid_t subject, SubjectInfo& info) {
  constexpr std::string_view where = "/subject";
  const auto text = [&](const std::string& name) -> std::optional<std::string> {
    if (!has_attribute(ctx, subject, where, name)) return std::nullopt;
    return read_fixed_string_attribute(ctx, subject, where, name);
  };
  if (auto sex = text("sex")) {
    if (std::find(kSexValues.begin(), kSexValues.end(), *sex) == kSexValues.end()) {
      ctx.fail(fmt::format("/subject has sex '{}', not female, male or other", *sex));
    }
    info.sex = std::move(*sex);
  }
  if (has_attribute(ctx, subject, where, "age")) {
    const double age = read_double_attribute(ctx, subject, where, "age");
    const std::string unit =
        read_fixed_string_attribute(ctx, subject, where, std::string("age") + kUnitSuffix);
    if (unit != kAgeUnit) {
      ctx.fail(fmt::format("attribute 'age{}' of /subject is '{}', expected '{}'", kUnitSuffix,
                           unit, kAgeUnit));
    }
    if (!(age >= 1.0 && age <= kMaxAgeYears) || age != std::floor(age)) {
      ctx.fail(fmt::format("/subject has age {}, not a whole number of years from 1 to {}", age,
                           kMaxAgeYears));
    }
    info.age_years = static_cast<int>(age);
  }
  if (auto sport = text("sport")) info.sport = std::move(*sport);
  for (const auto& [name, into] : {std::pair{"dominant_side", &info.dominant_side},
                                   std::pair{"injured_side", &info.injured_side}}) {
    const auto value = text(name);
    if (!value) continue;
    const auto side = drivers::parse_side(*value);
    const bool dominant = into == &info.dominant_side;
    if (!side || (dominant && *side == drivers::Side::kNone)) {
      ctx.fail(fmt::format("/subject has {} '{}', not left{}or right", name, *value,
                           dominant ? " " : ", none "));
    }
    *into = side;
  }
}

// Opens parent/name and checks that it is of the expected type (H5I_GROUP or H5I_DATASET).
hdf5::Object open_object(const ErrorContext& ctx, hid_t parent, const std::string& parent_path,
                         const std::string& name, H5I_type_t expected) {
  const char* what = expected == H5I_GROUP ? "group" : "dataset";
  const std::string path = child_path(parent_path, name);
  if (!ctx.check_tri(H5Lexists(parent, name.c_str(), H5P_DEFAULT), "cannot look up " + path)) {
    ctx.fail(fmt::format("missing {} {}", what, path));
  }
  // Soft and external links could lead anywhere, even into other files: a session has none.
  H5L_info_t link{};
  ctx.check(H5Lget_info(parent, name.c_str(), &link, H5P_DEFAULT), "cannot look up " + path);
  if (link.type != H5L_TYPE_HARD) {
    ctx.fail(fmt::format("{} is a link to elsewhere, not a {} in this file", path, what));
  }
  hdf5::Object object{
      ctx.check_id(H5Oopen(parent, name.c_str(), H5P_DEFAULT), "cannot open " + path)};
  if (H5Iget_type(object.get()) != expected) ctx.fail(fmt::format("{} is not a {}", path, what));
  return object;
}

// Names of the links in group that start with prefix, in name order.
std::vector<std::string> child_names(const ErrorContext& ctx, hid_t group, std::string_view where,
                                     std::string_view prefix) {
  struct Listing {
    std::string_view prefix;
    std::vector<std::string> names;
    std::exception_ptr error;
  } listing{prefix, {}, {}};
  const H5L_iterate_t collect = [](hid_t, const char* name, const H5L_info_t*,
                                   void* data) noexcept -> herr_t {
    auto& into = *static_cast<Listing*>(data);
    try {
      if (std::string_view(name).starts_with(into.prefix)) into.names.emplace_back(name);
      return 0;
    } catch (...) {
      // Exceptions must not cross HDF5's C frames: carry it out and rethrow below.
      into.error = std::current_exception();
      return -1;
    }
  };
  const herr_t result = H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &listing);
  if (listing.error) std::rethrow_exception(listing.error);
  ctx.check(result, fmt::format("cannot list {}", where));
  return listing.names;
}

// The groups named <prefix>NNN under group, ordered by their "index" attribute.
struct IndexedGroup {
  int index;
  std::string path;
  hdf5::Object group;
};

std::vector<IndexedGroup> indexed_groups(const ErrorContext& ctx, hid_t group,
                                         const std::string& where, std::string_view prefix) {
  std::vector<IndexedGroup> groups;
  for (const std::string& name : child_names(ctx, group, where, prefix)) {
    hdf5::Object child = open_object(ctx, group, where, name, H5I_GROUP);
    const std::string path = child_path(where, name);
    const int index = read_int_attribute(ctx, child.get(), path, "index", 0);
    groups.push_back({index, path, std::move(child)});
  }
  std::sort(groups.begin(), groups.end(),
            [](const IndexedGroup& a, const IndexedGroup& b) { return a.index < b.index; });
  for (std::size_t i = 1; i < groups.size(); ++i) {
    if (groups[i].index == groups[i - 1].index) {
      ctx.fail(fmt::format("{} and {} have the same index {}", groups[i - 1].path, groups[i].path,
                           groups[i].index));
    }
  }
  return groups;
}

// Refuses declared sizes the file cannot back, before allocating anything for them.
void check_declared_size(const ErrorContext& ctx, hid_t dataset, const std::string& path,
                         hsize_t rows, std::size_t element_bytes) {
  if (rows > kMaxRowsPerSet) {
    ctx.fail(fmt::format("{} declares {} rows, more than the {} a session file may hold", path,
                         rows, kMaxRowsPerSet));
  }
  const hsize_t declared_bytes = rows * element_bytes;
  const hsize_t stored_bytes = H5Dget_storage_size(dataset);
  const hdf5::PropertyList creation{
      ctx.check_id(H5Dget_create_plist(dataset), "cannot inspect " + path)};
  const int filters = H5Pget_nfilters(creation.get());
  const hsize_t plausible_bytes =
      stored_bytes * (filters > 0 ? kMaxCompressionRatio : 1) + kDeclaredSizeSlackBytes;
  if (declared_bytes > plausible_bytes) {
    ctx.fail(fmt::format("{} declares {} rows but stores only {} bytes (damaged or truncated)",
                         path, rows, stored_bytes));
  }
}

// A one-dimensional dataset of numbers with the expected unit, read whole into memory_type.
template <typename Value>
std::vector<Value> read_numbers(const ErrorContext& ctx, hid_t set, const std::string& set_path,
                                const ColumnLayout& layout, hid_t memory_type) {
  const std::string path = child_path(set_path, layout.name);
  const std::string action = "cannot read " + path;
  const hdf5::Object dataset = open_object(ctx, set, set_path, layout.name, H5I_DATASET);

  const hdf5::Datatype type{ctx.check_id(H5Dget_type(dataset.get()), action)};
  const H5T_class_t expected_class = std::is_integral_v<Value> ? H5T_INTEGER : H5T_FLOAT;
  const std::size_t element_bytes = H5Tget_size(type.get());
  if (H5Tget_class(type.get()) != expected_class || element_bytes == 0 || element_bytes > 16) {
    ctx.fail(fmt::format("{} does not hold {}", path,
                         std::is_integral_v<Value> ? "integers" : "floating-point numbers"));
  }
  const std::string unit = read_string_attribute(ctx, dataset.get(), path, "unit");
  if (unit != layout.unit) {
    ctx.fail(fmt::format("{} has unit '{}', expected '{}'", path, unit, layout.unit));
  }

  const hdf5::Dataspace space{ctx.check_id(H5Dget_space(dataset.get()), action)};
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    ctx.fail(fmt::format("{} is not one-dimensional", path));
  }
  hsize_t rows = 0;
  ctx.check(H5Sget_simple_extent_dims(space.get(), &rows, nullptr), action);
  check_declared_size(ctx, dataset.get(), path, rows, element_bytes);

  std::vector<Value> values(static_cast<std::size_t>(rows));
  if (rows > 0) {
    ctx.check(H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              action);
  }
  return values;
}

template <typename Value>
std::vector<Value> read_column(const ErrorContext& ctx, hid_t set, const std::string& set_path,
                               std::size_t column) {
  return read_numbers<Value>(ctx, set, set_path, kColumns[column], column_memory_type(column));
}

// The device's segmentation columns of a set (version 3), or nothing when the set has none.
std::optional<std::vector<DeviceSegment>> read_device_segments(const ErrorContext& ctx, hid_t set,
                                                               const std::string& set_path) {
  const char* first = kDeviceSegmentColumns[0].name;
  if (!ctx.check_tri(H5Lexists(set, first, H5P_DEFAULT),
                     "cannot look up " + child_path(set_path, first))) {
    return std::nullopt;
  }
  const auto repetition =
      read_numbers<std::int32_t>(ctx, set, set_path, kDeviceSegmentColumns[0], H5T_NATIVE_INT32);
  const auto phase =
      read_numbers<std::int8_t>(ctx, set, set_path, kDeviceSegmentColumns[1], H5T_NATIVE_INT8);
  if (repetition.size() != phase.size()) {
    ctx.fail(
        fmt::format("the device segmentation datasets of {} have different lengths", set_path));
  }
  std::vector<DeviceSegment> segments(repetition.size());
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (phase[i] < 0 || phase[i] > 2) {
      ctx.fail(fmt::format("{} row {} holds {}, not a phase (0, 1 or 2)",
                           child_path(set_path, kDeviceSegmentColumns[1].name), i, phase[i]));
    }
    segments[i] = {repetition[i], static_cast<DevicePhase>(phase[i])};
  }
  return segments;
}

std::vector<ConsumerStats> read_consumer_stats(const ErrorContext& ctx, hid_t set,
                                               const std::string& set_path) {
  std::vector<ConsumerStats> consumers;
  const std::string path = child_path(set_path, kConsumersGroup);
  const hdf5::Object group = open_object(ctx, set, set_path, kConsumersGroup, H5I_GROUP);
  for (const IndexedGroup& consumer : indexed_groups(ctx, group.get(), path, kConsumerPrefix)) {
    ConsumerStats& out = consumers.emplace_back();
    out.name = read_string_attribute(ctx, consumer.group.get(), consumer.path, "name");
    out.delivered = read_uint64_attribute(ctx, consumer.group.get(), consumer.path, "delivered");
    out.dropped = read_uint64_attribute(ctx, consumer.group.get(), consumer.path, "dropped");
  }
  return consumers;
}

// What salvage_session reads with: where each lost part is listed, and where a file cut short
// ends. read_session reads without (nullptr): every problem is then an error.
struct Salvage {
  std::vector<std::string>* lost = nullptr;
  std::optional<haddr_t> file_end;  // the file is shorter than HDF5's recorded end
};

std::string without_file_prefix(const ErrorContext& ctx, std::string what) {
  const std::string prefix = ctx.path().string() + ": ";
  if (what.starts_with(prefix)) what.erase(0, prefix.size());
  return what;
}

// A set's descriptive text. Salvaging, one that cannot be read (or names no known value) is
// listed as lost and read as the default, so it does not cost the set whose samples read.
template <typename Value, typename Parse>
Value read_set_text(const ErrorContext& ctx, hid_t set, const std::string& path, const char* name,
                    Value fallback, const Salvage* salvage, Parse parse) {
  try {
    const std::string text = read_string_attribute(ctx, set, path, name);
    const std::optional<Value> value = parse(text);
    if (!value) ctx.fail(fmt::format("{} has unknown {} '{}'", path, name, text));
    return *value;
  } catch (const SessionFileError& error) {
    if (salvage == nullptr || salvage->lost == nullptr) throw;
    salvage->lost->push_back(fmt::format("{} (the set is kept with the default {})",
                                         without_file_prefix(ctx, error.what()), name));
    return fallback;
  }
}

std::string read_set_string(const ErrorContext& ctx, hid_t set, const std::string& path,
                            const char* name, const std::string& fallback, const Salvage* salvage) {
  return read_set_text(ctx, set, path, name, fallback, salvage,
                       [](const std::string& text) { return std::optional(text); });
}

// The live consumers' counts of an ended set (version 2). Salvaging, counts that cannot be read
// are listed as lost: they say how a set was delivered, not what it recorded.
void read_set_consumers(const ErrorContext& ctx, hid_t set, const std::string& path,
                        const Salvage* salvage, SetStats& stats) {
  try {
    stats.consumers = read_consumer_stats(ctx, set, path);
  } catch (const SessionFileError& error) {
    if (salvage == nullptr || salvage->lost == nullptr) throw;
    salvage->lost->push_back(fmt::format("{} (the set is kept without its consumer counts)",
                                         without_file_prefix(ctx, error.what())));
  }
}

// A file cut short reads as zeros past its end: keep only the rows that every column of the set
// has stored before it, and say what was lost.
void keep_rows_in_file(const ErrorContext& ctx, hid_t set, const std::string& path,
                       const Salvage& salvage, RecordedSet& recorded) {
  std::vector<const char*> names;
  for (const ColumnLayout& column : kColumns) names.push_back(column.name);
  if (recorded.info.device_segmented) {
    for (const ColumnLayout& column : kDeviceSegmentColumns) names.push_back(column.name);
  }
  SetSignals& signals = recorded.signals;
  const hsize_t rows = signals.size();
  hsize_t kept = rows;
  for (const char* name : names) {
    const hdf5::Object dataset = open_object(ctx, set, path, name, H5I_DATASET);
    kept = std::min(kept, hdf5::rows_stored_before(ctx, dataset.get(), child_path(path, name), rows,
                                                   *salvage.file_end));
  }
  if (kept == rows) return;
  if (kept == 0) {
    ctx.fail(fmt::format("{}: its samples lie past the end of the file (cut short at byte {})",
                         path, *salvage.file_end));
  }
  salvage.lost->push_back(fmt::format(
      "{}: samples {} to {} lie past the end of the file (cut short at byte {}); the {} before "
      "are kept",
      path, kept, rows, *salvage.file_end, kept));
  const auto n = static_cast<std::size_t>(kept);
  signals.time.resize(n);
  signals.torque.resize(n);
  signals.angle.resize(n);
  signals.velocity.resize(n);
  signals.status.resize(n);
  if (recorded.info.device_segmented) signals.device_segments.resize(n);
  recorded.stats.sample_count = kept;
  recorded.stats.complete = false;
  recorded.stats.end_reason = kCutShortReason;
}

RecordedSet read_set(const ErrorContext& ctx, hid_t set, const std::string& path, int index,
                     int version, const Salvage* salvage = nullptr) {
  RecordedSet recorded;
  recorded.info.index = index;
  drivers::MotionSetpoint& setpoint = recorded.info.setpoint;

  setpoint.joint = read_set_text(ctx, set, path, "joint", setpoint.joint, salvage,
                                 [](const std::string& t) { return drivers::parse_joint(t); });
  // An unknown side must not pass for one (a left set read as right would flip a deficit).
  setpoint.side = read_set_text(ctx, set, path, "side", drivers::Side::kNone, salvage,
                                [](const std::string& t) { return drivers::parse_side(t); });
  setpoint.mode =
      read_set_text(ctx, set, path, "mode", setpoint.mode, salvage,
                    [](const std::string& t) { return drivers::parse_contraction_mode(t); });
  setpoint.extension_velocity = read_quantity(ctx, set, path, "extension_velocity", "deg/s");
  setpoint.flexion_velocity = read_quantity(ctx, set, path, "flexion_velocity", "deg/s");
  setpoint.angle_min = read_quantity(ctx, set, path, "angle_min", "deg");
  setpoint.angle_max = read_quantity(ctx, set, path, "angle_max", "deg");
  setpoint.repetitions = read_int_attribute(ctx, set, path, "repetitions");
  if (version >= 2) {
    setpoint.hold_angle = read_quantity(ctx, set, path, "hold_angle", "deg");
    setpoint.contraction_time = read_quantity(ctx, set, path, "contraction_time", "s");
    setpoint.passive = read_int_attribute(ctx, set, path, "passive") != 0;
    recorded.info.kind = read_set_string(ctx, set, path, "kind", recorded.info.kind, salvage);
    recorded.info.label = read_set_string(ctx, set, path, "label", recorded.info.label, salvage);
    recorded.info.protocol_set = read_int_attribute(ctx, set, path, "protocol_set", -1);
    recorded.info.attempt = read_int_attribute(ctx, set, path, "attempt", 1);
  }

  SetSignals& signals = recorded.signals;
  signals.time = read_column<double>(ctx, set, path, 0);
  signals.torque = read_column<double>(ctx, set, path, 1);
  signals.angle = read_column<double>(ctx, set, path, 2);
  signals.velocity = read_column<double>(ctx, set, path, 3);
  signals.status = read_column<std::uint32_t>(ctx, set, path, kStatusColumn);
  if (version >= 3) {
    if (auto segments = read_device_segments(ctx, set, path)) {
      signals.device_segments = std::move(*segments);
      recorded.info.device_segmented = true;
    }
  }
  std::vector<std::size_t> lengths = {signals.time.size(), signals.torque.size(),
                                      signals.angle.size(), signals.velocity.size(),
                                      signals.status.size()};
  if (recorded.info.device_segmented) lengths.push_back(signals.device_segments.size());
  const auto [shortest, longest] = std::minmax_element(lengths.begin(), lengths.end());

  // end_set writes these; without them the writer stopped mid-set.
  const bool ended = has_attribute(ctx, set, path, "sample_count");
  SetStats& stats = recorded.stats;
  if (ended) {
    stats.sample_count = read_uint64_attribute(ctx, set, path, "sample_count");
    stats.dropped_samples = read_uint64_attribute(ctx, set, path, "dropped_samples");
    stats.complete = read_int_attribute(ctx, set, path, "complete") != 0;
    stats.end_reason = read_set_string(ctx, set, path, "end_reason", "unknown", salvage);
    if (version >= 2) read_set_consumers(ctx, set, path, salvage, stats);
    if (*shortest != *longest) {
      ctx.fail(fmt::format("the datasets of {} have different lengths ({} to {} rows)", path,
                           *shortest, *longest));
    }
    if (stats.sample_count != *shortest) {
      ctx.fail(fmt::format("{} records sample_count {} but its datasets hold {} rows", path,
                           stats.sample_count, *shortest));
    }
  } else {
    // The writer stopped mid-set, possibly mid-flush: columns may reach different lengths on
    // disk, and rows past the last completed flush may hold fill values. Keep the rows that
    // every column has and that a completed flush vouches for.
    const std::string flushed_path = child_path(path, kFlushedRows);
    const hdf5::Object flushed = open_object(ctx, set, path, kFlushedRows, H5I_DATASET);
    const hdf5::Dataspace flushed_space{
        ctx.check_id(H5Dget_space(flushed.get()), "cannot read " + flushed_path)};
    const hdf5::Datatype flushed_type{
        ctx.check_id(H5Dget_type(flushed.get()), "cannot read " + flushed_path)};
    if (H5Sget_simple_extent_npoints(flushed_space.get()) != 1 ||
        H5Tget_class(flushed_type.get()) != H5T_INTEGER) {
      ctx.fail(fmt::format("{} is not a single integer", flushed_path));
    }
    std::uint64_t flushed_rows = 0;
    ctx.check(
        H5Dread(flushed.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &flushed_rows),
        "cannot read " + flushed_path);
    const std::size_t rows = std::min<std::size_t>(*shortest, flushed_rows);
    signals.time.resize(rows);
    signals.torque.resize(rows);
    signals.angle.resize(rows);
    signals.velocity.resize(rows);
    signals.status.resize(rows);
    if (recorded.info.device_segmented) signals.device_segments.resize(rows);
    stats.sample_count = rows;
    stats.dropped_samples = 0;
    stats.complete = false;
    stats.end_reason = kNotEndedReason;
  }
  if (salvage != nullptr && salvage->file_end) {
    keep_rows_in_file(ctx, set, path, *salvage, recorded);
  }
  return recorded;
}

// Reads rows [0, n) of a one-dimensional dataset into `into`, converted to memory_type.
void read_first_rows(const ErrorContext& ctx, hid_t dataset, const std::string& path,
                     hid_t memory_type, hsize_t n, void* into) {
  const std::string action = "cannot read " + path;
  const hdf5::Dataspace file_space{ctx.check_id(H5Dget_space(dataset), action)};
  const hsize_t start = 0;
  ctx.check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr),
            action);
  const hdf5::Dataspace memory_space{ctx.check_id(H5Screate_simple(1, &n, nullptr), action)};
  ctx.check(H5Dread(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, into),
            action);
}

// One string column of /events: variable-length strings (version 2) or fixed-length ones
// (version 3), rows [0, n).
std::vector<std::string> read_event_texts(const ErrorContext& ctx, hid_t dataset,
                                          const std::string& path, std::size_t n) {
  const std::string action = "cannot read " + path;
  const hdf5::Datatype type{ctx.check_id(H5Dget_type(dataset), action)};
  const hdf5::Datatype memory_type{ctx.check_id(H5Tcopy(type.get()), action)};
  std::vector<std::string> texts(n);
  if (ctx.check_tri(H5Tis_variable_str(type.get()), action)) {
    std::vector<char*> text(n, nullptr);
    read_first_rows(ctx, dataset, path, memory_type.get(), n, text.data());
    for (std::size_t i = 0; i < n; ++i) {
      texts[i] = text[i] == nullptr ? std::string() : std::string(text[i]);
      // The library allocated the strings; it must also free them.
      H5free_memory(text[i]);
    }
    return texts;
  }
  const std::size_t size = H5Tget_size(type.get());
  if (size == 0 || size > kMaxFixedStringBytes / std::max<std::size_t>(n, 1)) {
    ctx.fail(fmt::format("{} has an implausible string size", path));
  }
  std::vector<char> buffer(n * size, '\0');
  read_first_rows(ctx, dataset, path, memory_type.get(), n, buffer.data());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view row(buffer.data() + i * size, size);
    texts[i] = std::string(row.substr(0, row.find('\0')));
  }
  return texts;
}

// complete: the session was finished. A writer killed while appending events (in SWMR mode,
// version 3) can leave the columns at different lengths or a row extended but not written: such
// rows are dropped, never invented.
std::vector<Event> read_events(const ErrorContext& ctx, hid_t root, bool complete,
                               const Salvage* salvage) {
  const hdf5::Object group = open_object(ctx, root, "/", kEventsGroup + 1, H5I_GROUP);
  std::array<hsize_t, kEventColumns.size()> rows{};
  std::array<hdf5::Object, kEventColumns.size()> datasets;
  for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
    const ColumnLayout& layout = kEventColumns[column];
    const std::string path = child_path(kEventsGroup, layout.name);
    datasets[column] = open_object(ctx, group.get(), kEventsGroup, layout.name, H5I_DATASET);
    const std::string unit = read_string_attribute(ctx, datasets[column].get(), path, "unit");
    if (unit != layout.unit) {
      ctx.fail(fmt::format("{} has unit '{}', expected '{}'", path, unit, layout.unit));
    }
    const hdf5::Datatype type{
        ctx.check_id(H5Dget_type(datasets[column].get()), "cannot read " + path)};
    const H5T_class_t expected = column == 0 ? H5T_FLOAT : column == 1 ? H5T_INTEGER : H5T_STRING;
    const hdf5::Dataspace space{
        ctx.check_id(H5Dget_space(datasets[column].get()), "cannot read " + path)};
    if (H5Tget_class(type.get()) != expected || H5Sget_simple_extent_ndims(space.get()) != 1) {
      ctx.fail(fmt::format("{} does not hold the expected type", path));
    }
    ctx.check(H5Sget_simple_extent_dims(space.get(), &rows[column], nullptr),
              "cannot read " + path);
    const bool variable =
        column >= 2 && ctx.check_tri(H5Tis_variable_str(type.get()), "cannot read " + path);
    check_declared_size(ctx, datasets[column].get(), path, rows[column],
                        variable ? 16 : H5Tget_size(type.get()));
  }
  const auto [shortest, longest] = std::minmax_element(rows.begin(), rows.end());
  if (complete && *shortest != *longest) {
    ctx.fail(fmt::format("the datasets of {} have different lengths", kEventsGroup));
  }
  hsize_t stored = *shortest;
  if (salvage != nullptr && salvage->file_end) {
    for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
      stored = std::min(
          stored, hdf5::rows_stored_before(ctx, datasets[column].get(),
                                           child_path(kEventsGroup, kEventColumns[column].name),
                                           stored, *salvage->file_end));
    }
    if (stored < *shortest) {
      salvage->lost->push_back(
          fmt::format("{}: events {} to {} lie past the end of the file (cut short at byte {})",
                      kEventsGroup, stored, *shortest, *salvage->file_end));
    }
  }
  const auto n = static_cast<std::size_t>(stored);
  std::vector<Event> events;
  if (n == 0) return events;
  std::vector<double> time(n);
  std::vector<std::int32_t> set_index(n);
  read_first_rows(ctx, datasets[0].get(), child_path(kEventsGroup, "time"), H5T_NATIVE_DOUBLE, n,
                  time.data());
  read_first_rows(ctx, datasets[1].get(), child_path(kEventsGroup, "set_index"), H5T_NATIVE_INT32,
                  n, set_index.data());
  std::vector<std::string> kind =
      read_event_texts(ctx, datasets[2].get(), child_path(kEventsGroup, "kind"), n);
  std::vector<std::string> detail =
      read_event_texts(ctx, datasets[3].get(), child_path(kEventsGroup, "detail"), n);
  events.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!complete && (std::isnan(time[i]) || kind[i].empty())) continue;
    events.push_back({time[i], set_index[i], std::move(kind[i]), std::move(detail[i])});
  }
  return events;
}

// How a file was opened for reading, beyond what its contents say.
struct OpenedFile {
  hdf5::File file;
  // Set when the file is shorter than HDF5's recorded end of allocation (cut short by a crash
  // or a copy): its length in bytes. Only salvage opens such a file.
  std::optional<haddr_t> truncated_at;
};

// Read-only opens, tried in order: a file whose writer was killed mid-set (its superblock still
// says "open for SWMR writing") opens only with SWMR read; files in older HDF5 formats
// (rewritten by other tools) only without; a file whose writer was killed outside SWMR mode
// only as a private copy cleared the way h5clear clears a file (the original is only read).
// tolerate_truncation: also open a file cut short (salvage).
OpenedFile open_for_reading(const fs::path& path, bool tolerate_truncation) {
  const ErrorContext ctx(path, Kind::kNotHdf5);
  const hdf5::PropertyList fapl = file_access(ctx, false);
  // In SWMR mode HDF5 retries a metadata read whose checksum fails up to 100 times with growing
  // sleeps (waiting for a live writer); on a damaged file that made `isokin info` hang for
  // minutes (found by fuzz_session_file). Files are read after their writer stopped: retry once.
  ctx.check(H5Pset_metadata_read_attempts(fapl.get(), 2), "cannot set metadata read attempts");
  if (tolerate_truncation) (void)hdf5::set_private_access_flag(fapl.get(), "skip_eof_check");
  OpenedFile opened;
  // The first failures are not final, so they are not reported.
  if (const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.get());
      file >= 0) {
    opened.file = hdf5::File{file};
  } else if (const hid_t plain = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()); plain >= 0) {
    opened.file = hdf5::File{plain};
  } else if (const std::string reason = hdf5::error_stack_reason();
             reason.find("already open for write") == std::string::npos) {
    ctx.fail(fmt::format("cannot be opened as an HDF5 file (truncated or damaged?){}{}",
                         reason.empty() ? "" : ": ", reason));
  } else {
    // The superblock may still say "open for writing": a writer killed outside SWMR mode
    // (docs/file-format.md "Killed during an ordinary step"). A live writer holds the file's
    // lock, so this opens only files whose writer is gone (or on file systems without locks).
    const hdf5::PropertyList writable_fapl = file_access(ctx, false);
    opened.file = hdf5::open_cleared_copy(ctx, writable_fapl.get(), fapl.get());
  }
  haddr_t allocated_end = 0;
  std::error_code error;
  const std::uintmax_t bytes = fs::file_size(path, error);
  if (!error && H5Fget_eoa(opened.file.get(), &allocated_end) >= 0 && bytes < allocated_end) {
    opened.truncated_at = static_cast<haddr_t>(bytes);
  }
  return opened;
}

// Existence, HDF5 signature, format name and version, in that order (docs/file-format.md).
OpenedFile open_session_file(const fs::path& path, bool tolerate_truncation) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) {
    throw SessionFileError(Kind::kNotFound, path,
                           error && error != std::errc::no_such_file_or_directory
                               ? "cannot access the file: " + error.message()
                               : "no such file");
  }
  if (fs::is_directory(status)) {
    throw SessionFileError(Kind::kNotHdf5, path, "is a directory, not a session file");
  }
  if (fs::is_regular_file(status) && fs::file_size(path, error) == 0 && !error) {
    throw SessionFileError(Kind::kNotHdf5, path, "empty file (0 bytes), not an HDF5 session file");
  }
  const ErrorContext not_hdf5(path, Kind::kNotHdf5);
  if (!not_hdf5.check_tri(H5Fis_hdf5(path.c_str()), "cannot check whether it is an HDF5 file")) {
    not_hdf5.fail("not an HDF5 file (no HDF5 signature: another format, garbage or truncated)");
  }
  OpenedFile opened = open_for_reading(path, tolerate_truncation);
  const hid_t file = opened.file.get();

  const ErrorContext not_isokin(path, Kind::kNotIsokin);
  const std::string not_isokin_problem = fmt::format(
      "an HDF5 file but not an isokin session (no root attribute format = \"{}\")", kFormatName);
  if (!has_attribute(not_isokin, file, "/", "format") ||
      read_string_attribute(not_isokin, file, "/", "format") != kFormatName) {
    not_isokin.fail(not_isokin_problem);
  }

  const ErrorContext damaged(path, Kind::kDamaged);
  const int version = read_int_attribute(damaged, file, "/", "format_version");
  if (version > kFormatVersion) {
    throw SessionFileError(Kind::kNewerVersion, path,
                           fmt::format("written in isokin file format version {}, but this build "
                                       "reads only up to version {}: update isokin to read it",
                                       version, kFormatVersion));
  }
  if (version < 1) damaged.fail(fmt::format("invalid format_version {}", version));
  return opened;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SessionWriter

struct SessionWriter::Impl {
  enum class State { kBetweenSets, kInSet, kFinished, kFailed };

  fs::path path;
  Options options;
  State state = State::kBetweenSets;
  std::string failure;  // why the writer stopped, for later calls
  std::set<int> set_indices;

  // Open while a set is being recorded and while events are written between sets, in
  // SWMR-write mode. Declared before the datasets so that it is closed after them.
  hdf5::File file;
  std::array<hdf5::Dataset, kColumns.size()> datasets;
  hdf5::Dataset flushed_rows_dataset;
  EventDatasets event_datasets;            // events are appended at each flush (version 3)
  DeviceSegmentDatasets segment_datasets;  // only when the set is device_segmented
  bool segmented = false;
  std::string set_path;
  hsize_t rows_written = 0;
  SetSignals pending;  // appended but not yet written
  std::chrono::steady_clock::time_point last_flush;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  // Queued by add_event from any thread; written at the next flush or step between sets.
  std::mutex events_mutex;
  std::vector<Event> pending_events;  // guarded by events_mutex

  std::vector<Event> take_pending_events() {
    std::vector<Event> taken;
    const std::lock_guard lock(events_mutex);
    taken.swap(pending_events);
    return taken;
  }

  [[nodiscard]] ErrorContext write_context() const { return {path, Kind::kWriteFailed}; }

  // A write that fails outside SWMR mode leaves the file marked "open for writing", which other
  // tools refuse until someone runs h5clear (isokin reads a cleared copy). So before each such
  // step, reserve disk blocks past the end of the file: a full disk then fails here, before HDF5
  // has touched the file. HDF5 allocates from its own end of data, so it writes into the reserved
  // tail, and it cuts the file back to the bytes it uses when it closes it.
  void reserve_space_for_metadata() const {
    constexpr off_t kReservedBytes = off_t{4} << 20;  // one set's objects need a few KiB
    const ErrorContext ctx = write_context();
    const int descriptor = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (descriptor < 0) {
      ctx.fail(fmt::format("cannot open the file for writing: {}", std::strerror(errno)));
    }
    struct stat file_status {};
    int error = ::fstat(descriptor, &file_status) == 0 ? 0 : errno;
    if (error == 0) error = ::posix_fallocate(descriptor, file_status.st_size, kReservedBytes);
    struct statvfs file_system {};
    const bool free_known = error == ENOSPC && ::fstatvfs(descriptor, &file_system) == 0;
    ::close(descriptor);
    if (error != 0) {
      constexpr double kMiB = 1024.0 * 1024.0;
      // Say what is needed against what there is: "No space left" on a disk with 3 MiB free
      // otherwise reads as a bug (issue 19.13).
      const std::string space =
          free_known ? fmt::format(
                           " (the writer needs {:.1f} MiB free whenever a set starts or ends; "
                           "{:.1f} MiB free on the file system)",
                           static_cast<double>(kReservedBytes) / kMiB,
                           static_cast<double>(file_system.f_bavail) *
                               static_cast<double>(file_system.f_frsize) / kMiB)
                     : std::string();
      ctx.fail(fmt::format("cannot reserve space to write: {}{}", std::strerror(error), space));
    }
  }

  // Runs a step of writing; any failure stops the writer for good, because the file's state in
  // HDF5's caches is then unknown. What was flushed before stays readable.
  template <typename Step>
  void run(Step&& step) {
    hdf5::silence_error_printing();
    if (state == State::kFailed) {
      throw SessionFileError(
          Kind::kWriteFailed, path,
          "not written: the writer stopped after an earlier failure (" + failure + ")");
    }
    try {
      step();
    } catch (const std::exception& error) {
      state = State::kFailed;
      if (file.valid()) {
        // Failed in SWMR mode: leave the file exactly as last flushed, like a killed writer,
        // which read_session and h5py (swmr=True) can read. Closing would make HDF5 write
        // metadata for data that never reached the disk (then the file reads as truncated).
        for (hdf5::Dataset& dataset : datasets) dataset.abandon();
        for (hdf5::Dataset& dataset : event_datasets) dataset.abandon();
        for (hdf5::Dataset& dataset : segment_datasets) dataset.abandon();
        flushed_rows_dataset.abandon();
        file.abandon();
      }
      std::string what = error.what();
      const std::string prefix = path.string() + ": ";
      if (what.starts_with(prefix)) what.erase(0, prefix.size());
      failure = std::move(what);
      throw;
    }
  }

  void create(const SessionInfo& info) {
    const ErrorContext ctx = write_context();
    const hdf5::PropertyList fapl = file_access(ctx, true);
    hdf5::File created{ctx.check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                                    "cannot create the file")};
    write_metadata(ctx, created.get(), info);
    append_events(ctx, created.get(), take_pending_events());
    kill_here_if_asked("create");
    close_checked(ctx, created);
  }

  void close_event_datasets(const ErrorContext& ctx) {
    for (std::size_t column = 0; column < kEventColumns.size(); ++column) {
      ctx.check(event_datasets[column].close(),
                "cannot close " + child_path(kEventsGroup, kEventColumns[column].name));
    }
  }

  // Between sets only rows are appended, which SWMR mode allows: the file is opened directly in
  // SWMR-write mode, so a kill here leaves it as a killed set does, never marked "open for
  // writing" outside SWMR (which only h5clear undid). On failure run() abandons the handles.
  void write_events() {
    const ErrorContext ctx = write_context();
    const std::vector<Event> events = take_pending_events();
    if (events.empty()) return;
    file = open_for_writing(ctx, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE);
    event_datasets = open_event_datasets(ctx, file.get());
    append_events(ctx, event_datasets, events);
    kill_here_if_asked("events");
    close_event_datasets(ctx);
    close_checked(ctx, file);
  }

  void begin_set(const SetInfo& info) {
    const ErrorContext ctx = write_context();
    const std::string path_in_file =
        child_path(std::string("/") + kSetsGroup, set_group_name(info.index));
    reserve_space_for_metadata();
    // HDF5 1.10 cannot create objects or attributes in SWMR mode: make everything first in
    // normal mode, then switch this same open file to SWMR writing (which flushes it to a
    // consistent state first) instead of closing and reopening it, and keep the new datasets
    // open: the same objects on disk, one open and close of the file less per set.
    hdf5::File normal = open_for_writing(ctx, H5F_ACC_RDWR);
    std::array<hdf5::Dataset, kColumns.size()> created_columns;
    DeviceSegmentDatasets created_segments;
    hdf5::Dataset created_flushed_rows;
    {
      hdf5::Group set = create_group(ctx, normal.get(), path_in_file);
      write_set_attributes(ctx, set.get(), path_in_file, info);
      append_events(ctx, normal.get(), take_pending_events());
      for (std::size_t column = 0; column < kColumns.size(); ++column) {
        created_columns[column] =
            create_column(ctx, set.get(), path_in_file, column, options.chunk_rows);
      }
      if (info.device_segmented) {
        for (std::size_t column = 0; column < kDeviceSegmentColumns.size(); ++column) {
          created_segments[column] = create_extensible_dataset(
              ctx, set.get(), path_in_file, kDeviceSegmentColumns[column],
              device_segment_file_type(column), options.chunk_rows, false);
        }
      }
      created_flushed_rows = create_flushed_rows(ctx, set.get(), path_in_file);
      ctx.check(set.close(), "cannot close " + path_in_file);
    }
    kill_here_if_asked("begin-set");
    ctx.check(H5Fstart_swmr_write(normal.get()), "cannot start SWMR writing");
    file = std::move(normal);
    datasets = std::move(created_columns);
    segment_datasets = std::move(created_segments);
    flushed_rows_dataset = std::move(created_flushed_rows);
    segmented = info.device_segmented;
    event_datasets = open_event_datasets(ctx, file.get());
    set_indices.insert(info.index);
    set_path = path_in_file;
    rows_written = 0;
    clear(pending);
    last_flush = std::chrono::steady_clock::now();
    state = State::kInSet;
  }

  void append(std::span<const drivers::Sample> samples, std::span<const DeviceSegment> segments) {
    for (const drivers::Sample& sample : samples) pending.append(sample);
    pending.device_segments.insert(pending.device_segments.end(), segments.begin(), segments.end());
    if (pending.size() >= options.chunk_rows) write_pending();
    if (std::chrono::steady_clock::now() - last_flush >= options.flush_interval) flush();
  }

  void write_pending() {
    const hsize_t count = pending.size();
    if (count == 0) return;
    const ErrorContext ctx = write_context();
    const std::array<const void*, kColumns.size()> columns = {
        pending.time.data(), pending.torque.data(), pending.angle.data(), pending.velocity.data(),
        pending.status.data()};
    for (std::size_t column = 0; column < kColumns.size(); ++column) {
      write_rows(ctx, datasets[column].get(), child_path(set_path, kColumns[column].name),
                 column_memory_type(column), rows_written, count, columns[column]);
    }
    if (segmented) {
      std::vector<std::int32_t> repetition(count);
      std::vector<std::int8_t> phase(count);
      for (std::size_t i = 0; i < count; ++i) {
        repetition[i] = pending.device_segments[i].repetition;
        phase[i] = static_cast<std::int8_t>(pending.device_segments[i].phase);
      }
      const std::array<const void*, 2> data = {repetition.data(), phase.data()};
      for (std::size_t column = 0; column < kDeviceSegmentColumns.size(); ++column) {
        write_rows(ctx, segment_datasets[column].get(),
                   child_path(set_path, kDeviceSegmentColumns[column].name),
                   device_segment_memory_type(column), rows_written, count, data[column]);
      }
    }
    rows_written += count;
    clear(pending);
  }

  // Writes what is pending, gets it to disk, then records how many rows are now safe there.
  void flush() {
    const ErrorContext ctx = write_context();
    write_pending();
    append_events(ctx, event_datasets, take_pending_events());
    ctx.check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "cannot flush the file");
    const std::uint64_t flushed_rows = rows_written;
    const std::string action = "cannot write " + child_path(set_path, kFlushedRows);
    ctx.check(H5Dwrite(flushed_rows_dataset.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       &flushed_rows),
              action);
    ctx.check(H5Dflush(flushed_rows_dataset.get()), action);
    last_flush = std::chrono::steady_clock::now();
  }

  void end_set(const SetStats& stats) {
    const ErrorContext ctx = write_context();
    flush();
    for (std::size_t column = 0; column < kColumns.size(); ++column) {
      ctx.check(datasets[column].close(),
                "cannot close " + child_path(set_path, kColumns[column].name));
    }
    ctx.check(flushed_rows_dataset.close(), "cannot close " + child_path(set_path, kFlushedRows));
    for (std::size_t column = 0; column < kDeviceSegmentColumns.size(); ++column) {
      if (segment_datasets[column].valid()) {
        ctx.check(segment_datasets[column].close(),
                  "cannot close " + child_path(set_path, kDeviceSegmentColumns[column].name));
      }
    }
    close_event_datasets(ctx);
    close_checked(ctx, file);
    reserve_space_for_metadata();
    {
      hdf5::File normal = open_for_writing(ctx, H5F_ACC_RDWR);
      hdf5::Group set{ctx.check_id(H5Gopen2(normal.get(), set_path.c_str(), H5P_DEFAULT),
                                   "cannot open " + set_path)};
      write_uint64_attribute(ctx, set.get(), set_path, "sample_count", stats.sample_count);
      write_uint64_attribute(ctx, set.get(), set_path, "dropped_samples", stats.dropped_samples);
      write_int32_attribute(ctx, set.get(), set_path, "complete", stats.complete ? 1 : 0);
      write_string_attribute(ctx, set.get(), set_path, "end_reason", stats.end_reason);
      write_consumer_stats(ctx, set.get(), set_path, stats.consumers);
      append_events(ctx, normal.get(), take_pending_events());
      ctx.check(set.close(), "cannot close " + set_path);
      kill_here_if_asked("end-set");
      close_checked(ctx, normal);
    }
    state = State::kBetweenSets;
  }

  void finish() {
    const ErrorContext ctx = write_context();
    reserve_space_for_metadata();
    hdf5::File normal = open_for_writing(ctx, H5F_ACC_RDWR);
    append_events(ctx, normal.get(), take_pending_events());
    write_int32_attribute(ctx, normal.get(), "/", "complete", 1);
    kill_here_if_asked("finish");
    close_checked(ctx, normal);
    state = State::kFinished;
  }
};

SessionWriter::SessionWriter(fs::path path, const SessionInfo& info, Options options)
    : impl_(std::make_unique<Impl>()) {
  // Chunks beyond HDF5's 1 MiB per-dataset chunk cache would be rewritten on every append.
  constexpr std::size_t kMaxChunkRows = std::size_t{1} << 16;
  if (options.chunk_rows == 0 || options.chunk_rows > kMaxChunkRows) {
    throw std::invalid_argument(
        fmt::format("SessionWriter: chunk_rows must be 1 to {}", kMaxChunkRows));
  }
  check_subject_info(info.subject);  // before the file exists: a bad value leaves no file
  impl_->path = std::move(path);
  impl_->options = options;
  impl_->run([&] { impl_->create(info); });
}

SessionWriter::SessionWriter(fs::path path, const SessionInfo& info)
    : SessionWriter(std::move(path), info, Options{}) {}

SessionWriter::~SessionWriter() {
  if (impl_->state != Impl::State::kInSet) return;
  // Interrupted mid-set (an exception is unwinding, or the caller stopped): keep what was
  // appended. The set stays without end-of-set attributes, which marks it interrupted.
  try {
    impl_->run([this] { impl_->flush(); });
  } catch (const std::exception& error) {
    // A destructor must not throw; the samples flushed earlier stay readable. Say what was lost.
    std::cerr << "isokin: " << error.what() << '\n';
  }
}

void SessionWriter::begin_set(const SetInfo& info) {
  if (impl_->state == Impl::State::kInSet) {
    throw std::logic_error("SessionWriter::begin_set: the previous set has not ended");
  }
  if (impl_->state == Impl::State::kFinished) {
    throw std::logic_error("SessionWriter::begin_set: the session is finished");
  }
  if (info.index < 0 || impl_->set_indices.contains(info.index)) {
    throw std::invalid_argument(fmt::format(
        "SessionWriter::begin_set: set index {} is negative or already used", info.index));
  }
  impl_->run([&] { impl_->begin_set(info); });
}

void SessionWriter::append(std::span<const drivers::Sample> samples) {
  append(samples, {});
}

void SessionWriter::append(std::span<const drivers::Sample> samples,
                           std::span<const DeviceSegment> segments) {
  if (impl_->state != Impl::State::kInSet && impl_->state != Impl::State::kFailed) {
    throw std::logic_error("SessionWriter::append: no set has begun");
  }
  if (segments.size() != (impl_->segmented ? samples.size() : 0)) {
    throw std::invalid_argument(fmt::format(
        "SessionWriter::append: {} device segments for {} samples in a set {}device-segmented",
        segments.size(), samples.size(), impl_->segmented ? "" : "not "));
  }
  impl_->run([&] { impl_->append(samples, segments); });
}

void SessionWriter::end_set(const SetStats& stats) {
  if (impl_->state != Impl::State::kInSet && impl_->state != Impl::State::kFailed) {
    throw std::logic_error("SessionWriter::end_set: no set has begun");
  }
  const std::uint64_t appended = impl_->rows_written + impl_->pending.size();
  if (impl_->state == Impl::State::kInSet && stats.sample_count != appended) {
    throw std::invalid_argument(
        fmt::format("SessionWriter::end_set: stats.sample_count is {} but {} samples were appended",
                    stats.sample_count, appended));
  }
  impl_->run([&] { impl_->end_set(stats); });
}

void SessionWriter::finish() {
  if (impl_->state == Impl::State::kInSet) {
    throw std::logic_error("SessionWriter::finish: end the current set first");
  }
  if (impl_->state == Impl::State::kFinished) {
    throw std::logic_error("SessionWriter::finish: already finished");
  }
  impl_->run([&] { impl_->finish(); });
}

void SessionWriter::add_event(Event event) {
  check_event(event);  // here, where the caller can act, not when the writer flushes
  const std::lock_guard lock(impl_->events_mutex);
  impl_->pending_events.push_back(std::move(event));
}

void SessionWriter::write_events() {
  if (impl_->state != Impl::State::kBetweenSets) return;
  {
    const std::lock_guard lock(impl_->events_mutex);
    if (impl_->pending_events.empty()) return;
  }
  impl_->run([&] { impl_->write_events(); });
}

double SessionWriter::session_time() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->created).count();
}

const fs::path& SessionWriter::path() const noexcept {
  return impl_->path;
}

// ---------------------------------------------------------------------------------------------
// Whole sessions

void check_subject_info(const SubjectInfo& subject) {
  if (!subject.sex.empty() &&
      std::find(kSexValues.begin(), kSexValues.end(), subject.sex) == kSexValues.end()) {
    throw std::invalid_argument(fmt::format(
        "subject sex '{}' is not female, male or other (empty: not recorded)", subject.sex));
  }
  if (subject.age_years < 0 || subject.age_years > kMaxAgeYears) {
    throw std::invalid_argument(fmt::format("subject age {} is not 1 to {} years (0: not recorded)",
                                            subject.age_years, kMaxAgeYears));
  }
  if (subject.sport.find('\0') != std::string::npos || subject.sport.size() > kMaxSportBytes) {
    throw std::invalid_argument(fmt::format(
        "subject sport is longer than {} bytes or contains a NUL character", kMaxSportBytes));
  }
  if (subject.dominant_side == drivers::Side::kNone) {
    throw std::invalid_argument("subject dominant side must be left or right (or not recorded)");
  }
}

namespace {

// Reads a session. With `lost` null every problem throws (read_session); otherwise each part
// that cannot be read is skipped, its problem appended to *lost, and reading goes on
// (salvage_session). Parts: root attributes, subject, device, protocol, each set, events.
Session read_session_parts(const fs::path& path, std::vector<std::string>* lost) {
  hdf5::silence_error_printing();
  const OpenedFile opened = open_session_file(path, lost != nullptr);
  const ErrorContext ctx(path, Kind::kDamaged);
  const hid_t root = opened.file.get();
  Salvage salvage{lost, opened.truncated_at};
  const Salvage* salvaging = lost == nullptr ? nullptr : &salvage;
  if (lost != nullptr && opened.truncated_at) {
    lost->push_back(fmt::format(
        "the file ends at byte {}, before the end HDF5 recorded for it (cut short by a crash or "
        "a copy): what lay past that is lost",
        *opened.truncated_at));
  }
  const auto part = [&](auto&& read) {
    if (lost == nullptr) {
      read();
      return;
    }
    try {
      read();
    } catch (const SessionFileError& error) {
      lost->push_back(without_file_prefix(ctx, error.what()));
    }
  };

  Session session;
  // The version decides how everything else is read: never guessed.
  session.format_version = read_int_attribute(ctx, root, "/", "format_version");
  SessionInfo& info = session.info;
  part([&] {
    session.complete = read_int_attribute(ctx, root, "/", "complete") != 0;
    info.created_utc = read_string_attribute(ctx, root, "/", "created_utc");
    info.software = read_string_attribute(ctx, root, "/", "software");
  });

  part([&] {
    const hdf5::Object subject = open_object(ctx, root, "/", "subject", H5I_GROUP);
    info.subject.id = read_string_attribute(ctx, subject.get(), "/subject", "id");
    info.subject.body_mass_kg = read_quantity(ctx, subject.get(), "/subject", "body_mass", "kg");
    for (const auto& [name, into] : {std::pair{"name", &info.subject.name},
                                     std::pair{"birth_date", &info.subject.birth_date}}) {
      if (has_attribute(ctx, subject.get(), "/subject", name)) {
        *into = read_string_attribute(ctx, subject.get(), "/subject", name);
      }
    }
    if (session.format_version >= 4) read_subject_details(ctx, subject.get(), info.subject);
  });

  part([&] {
    drivers::DeviceDescription& device = info.device;
    const hdf5::Object group = open_object(ctx, root, "/", "device", H5I_GROUP);
    device.driver = read_string_attribute(ctx, group.get(), "/device", "driver");
    device.model = read_string_attribute(ctx, group.get(), "/device", "model");
    device.serial = read_string_attribute(ctx, group.get(), "/device", "serial");
    device.sample_rate_hz = read_quantity(ctx, group.get(), "/device", "sample_rate", "Hz");

    const hdf5::Object channels = open_object(ctx, group.get(), "/device", "channels", H5I_GROUP);
    for (const IndexedGroup& channel :
         indexed_groups(ctx, channels.get(), "/device/channels", kChannelPrefix)) {
      const hid_t id = channel.group.get();
      drivers::ChannelDescription& out = device.channels.emplace_back();
      out.name = read_string_attribute(ctx, id, channel.path, "name");
      out.unit = read_string_attribute(ctx, id, channel.path, "unit");
      out.range_min = read_quantity(ctx, id, channel.path, "range_min", out.unit);
      out.range_max = read_quantity(ctx, id, channel.path, "range_max", out.unit);
    }

    const hdf5::Object calibrations =
        open_object(ctx, group.get(), "/device", "calibrations", H5I_GROUP);
    for (const IndexedGroup& calibration :
         indexed_groups(ctx, calibrations.get(), "/device/calibrations", kCalibrationPrefix)) {
      const hid_t id = calibration.group.get();
      drivers::ChannelCalibration& out = device.calibration.emplace_back();
      out.channel = read_string_attribute(ctx, id, calibration.path, "channel");
      out.gain = read_double_attribute(ctx, id, calibration.path, "gain");
      out.offset = read_double_attribute(ctx, id, calibration.path, "offset");
    }
  });

  part([&] {
    const hdf5::Object protocol = open_object(ctx, root, "/", "protocol", H5I_GROUP);
    info.protocol_name = read_string_attribute(ctx, protocol.get(), "/protocol", "name");
    info.protocol_json = read_string_attribute(ctx, protocol.get(), "/protocol", "json");
  });

  const std::string sets_path = std::string("/") + kSetsGroup;
  part([&] {
    const hdf5::Object sets = open_object(ctx, root, "/", kSetsGroup, H5I_GROUP);
    if (lost == nullptr) {
      for (const IndexedGroup& set : indexed_groups(ctx, sets.get(), sets_path, kSetPrefix)) {
        session.sets.push_back(
            read_set(ctx, set.group.get(), set.path, set.index, session.format_version));
      }
      return;
    }
    // Salvage: each set on its own, so one damaged set does not take the others with it.
    std::set<int> indices;
    for (const std::string& name : child_names(ctx, sets.get(), sets_path, kSetPrefix)) {
      part([&] {
        const hdf5::Object group = open_object(ctx, sets.get(), sets_path, name, H5I_GROUP);
        const std::string set_path = child_path(sets_path, name);
        const int index = read_int_attribute(ctx, group.get(), set_path, "index", 0);
        if (!indices.insert(index).second) {
          ctx.fail(fmt::format("{} repeats set index {}", set_path, index));
        }
        session.sets.push_back(
            read_set(ctx, group.get(), set_path, index, session.format_version, salvaging));
      });
    }
    std::sort(
        session.sets.begin(), session.sets.end(),
        [](const RecordedSet& a, const RecordedSet& b) { return a.info.index < b.info.index; });
  });
  if (session.format_version >= 2) {
    part([&] { session.events = read_events(ctx, root, session.complete, salvaging); });
  }
  return session;
}

}  // namespace

Session read_session(const fs::path& path) {
  return read_session_parts(path, nullptr);
}

SalvagedSession salvage_session(const fs::path& path) {
  SalvagedSession salvaged;
  salvaged.session = read_session_parts(path, &salvaged.lost);
  return salvaged;
}

void write_session(const fs::path& path, const Session& session) {
  // Check everything before creating the file, so a bad session leaves no half-written file.
  for (const Event& event : session.events) check_event(event);
  std::set<int> indices;
  for (const RecordedSet& set : session.sets) {
    if (set.info.index < 0 || !indices.insert(set.info.index).second) {
      throw std::invalid_argument(
          fmt::format("write_session: set index {} is negative or repeated", set.info.index));
    }
    const SetSignals& signals = set.signals;
    const std::size_t rows = signals.size();
    if (signals.torque.size() != rows || signals.angle.size() != rows ||
        signals.velocity.size() != rows || signals.status.size() != rows) {
      throw std::invalid_argument(
          fmt::format("write_session: set {} has signals of different lengths", set.info.index));
    }
    if (set.info.device_segmented ? signals.device_segments.size() != rows
                                  : !signals.device_segments.empty()) {
      throw std::invalid_argument(
          fmt::format("write_session: set {} has {} device segments for {} samples{}",
                      set.info.index, signals.device_segments.size(), rows,
                      set.info.device_segmented ? "" : " but is not marked device_segmented"));
    }
    if (set.stats.sample_count != rows) {
      throw std::invalid_argument(
          fmt::format("write_session: set {} has sample_count {} but {} samples", set.info.index,
                      set.stats.sample_count, rows));
    }
  }

  // Each set's last chunk is allocated whole: a chunk no longer than the longest set keeps short
  // sessions (imports at 100 Hz) from growing to several times their samples.
  SessionWriter::Options options;
  std::size_t longest = 0;
  for (const RecordedSet& set : session.sets) longest = std::max(longest, set.signals.size());
  options.chunk_rows = std::clamp<std::size_t>(longest, 64, options.chunk_rows);
  SessionWriter writer(path, session.info, options);
  for (const Event& event : session.events) writer.add_event(event);
  writer.write_events();
  constexpr std::size_t kBlockRows = 8192;
  std::vector<drivers::Sample> block;
  block.reserve(kBlockRows);
  for (const RecordedSet& set : session.sets) {
    const SetSignals& signals = set.signals;
    writer.begin_set(set.info);
    for (std::size_t start = 0; start < signals.size(); start += kBlockRows) {
      block.clear();
      const std::size_t end = std::min(signals.size(), start + kBlockRows);
      for (std::size_t i = start; i < end; ++i) {
        block.push_back({signals.time[i], signals.torque[i], signals.angle[i], signals.velocity[i],
                         signals.status[i]});
      }
      const std::span<const DeviceSegment> segments =
          set.info.device_segmented
              ? std::span<const DeviceSegment>(signals.device_segments).subspan(start, end - start)
              : std::span<const DeviceSegment>();
      writer.append(block, segments);
    }
    writer.end_set(set.stats);
  }
  if (session.complete) writer.finish();
}

}  // namespace isokin::acquisition
