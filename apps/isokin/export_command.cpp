// `isokin export`: a session's signals, events and results in the formats researchers load
// directly: tidy CSV (R, pandas), one JSON document, or a MATLAB v5 .mat file (MATLAB, scipy).
#include "export_command.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <matio.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "commands.h"
#include "file_commands.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"
#include "result_csv.h"
#include "subject_options.h"

namespace isokin::cli {
namespace {

namespace fs = std::filesystem;
using acquisition::RecordedSet;
using acquisition::Session;

std::ofstream open_output(const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error(fmt::format("export: cannot create {}", path.string()));
  return out;
}

void check_written(std::ofstream& out, const fs::path& path) {
  out.flush();
  if (!out) throw std::runtime_error(fmt::format("export: writing {} failed", path.string()));
}

nlohmann::ordered_json set_info_json(const RecordedSet& set) {
  const auto& sp = set.info.setpoint;
  return {{"set_index", set.info.index},
          {"kind", set.info.kind},
          {"label", set.info.label},
          {"attempt", set.info.attempt},
          {"joint", drivers::to_string(sp.joint)},
          {"side", drivers::to_string(sp.side)},
          {"mode", drivers::to_string(sp.mode)},
          {"extension_velocity_deg_s", sp.extension_velocity},
          {"flexion_velocity_deg_s", sp.flexion_velocity},
          {"samples", set.signals.size()},
          {"complete", set.stats.complete},
          {"end_reason", set.stats.end_reason},
          {"dropped_samples", set.stats.dropped_samples}};
}

nlohmann::ordered_json session_json(const Session& s) {
  auto session = subject_json(s.info.subject);
  const nlohmann::ordered_json rest = {
      {"created_utc", s.info.created_utc},
      {"complete", s.complete},
      {"file_format_version", s.format_version},
      {"protocol", s.info.protocol_name},
      {"device",
       {{"driver", s.info.device.driver},
        {"model", s.info.device.model},
        {"sample_rate_hz", s.info.device.sample_rate_hz}}},
      {"units",
       {{"time", "s"},
        {"torque", "N·m, positive = extensor moment"},
        {"angle", "deg, joint flexion, 0 = full extension"},
        {"velocity", "deg/s, d(angle)/dt, positive toward flexion"}}}};
  for (const auto& [key, value] : rest.items()) session[key] = value;
  return session;
}

void export_csv(const Session& session, const analysis::SessionAnalysis& analysis,
                const fs::path& dir) {
  fs::create_directories(dir);
  {
    const fs::path path = dir / "signals.csv";
    auto out = open_output(path);
    out << "set_index,time_s,torque_nm,angle_deg,velocity_deg_s,status\n";
    for (const RecordedSet& set : session.sets) {
      const auto& sig = set.signals;
      for (std::size_t i = 0; i < sig.size(); ++i) {
        fmt::print(out, "{},{},{},{},{},{}\n", set.info.index, exact_number(sig.time[i]),
                   exact_number(sig.torque[i]), exact_number(sig.angle[i]),
                   exact_number(sig.velocity[i]), sig.status[i]);
      }
    }
    check_written(out, path);
  }
  {
    const fs::path path = dir / "recording_sets.csv";
    auto out = open_output(path);
    out << "set_index,kind,label,attempt,joint,side,mode,extension_velocity_deg_s,"
           "flexion_velocity_deg_s,samples,complete,end_reason,dropped_samples\n";
    for (const RecordedSet& set : session.sets) {
      const auto& sp = set.info.setpoint;
      fmt::print(out, "{},{},{},{},{},{},{},{},{},{},{},{},{}\n", set.info.index,
                 csv_field(set.info.kind), csv_field(set.info.label), set.info.attempt,
                 drivers::to_string(sp.joint), drivers::to_string(sp.side),
                 drivers::to_string(sp.mode), exact_number(sp.extension_velocity),
                 exact_number(sp.flexion_velocity), set.signals.size(), set.stats.complete ? 1 : 0,
                 csv_field(set.stats.end_reason), set.stats.dropped_samples);
    }
    check_written(out, path);
  }
  {
    const fs::path path = dir / "events.csv";
    auto out = open_output(path);
    out << "time_s,set_index,kind,detail\n";
    for (const auto& e : session.events) {
      fmt::print(out, "{},{},{},{}\n", exact_number(e.time), e.set_index, csv_field(e.kind),
                 csv_field(e.detail));
    }
    check_written(out, path);
  }
  {
    const fs::path path = dir / "session.json";
    auto out = open_output(path);
    out << session_json(session).dump(2) << '\n';
    check_written(out, path);
  }
  write_results_csv(session, analysis, dir);  // repetitions.csv, sets.csv, ratios.csv
}

void export_json(const Session& session, const analysis::SessionAnalysis& analysis,
                 const fs::path& path) {
  nlohmann::ordered_json doc;
  doc["schema"] = "isokin-export";
  doc["schema_version"] = 1;
  doc["session"] = session_json(session);
  doc["sets"] = nlohmann::ordered_json::array();
  for (const RecordedSet& set : session.sets) {
    auto entry = set_info_json(set);
    entry["signals"] = {{"time_s", set.signals.time},
                        {"torque_nm", set.signals.torque},
                        {"angle_deg", set.signals.angle},
                        {"velocity_deg_s", set.signals.velocity},
                        {"status", set.signals.status}};
    doc["sets"].push_back(std::move(entry));
  }
  doc["events"] = nlohmann::ordered_json::array();
  for (const auto& e : session.events) {
    doc["events"].push_back(
        {{"time_s", e.time}, {"set_index", e.set_index}, {"kind", e.kind}, {"detail", e.detail}});
  }
  doc["results"] = results_to_json(session, analysis);
  auto out = open_output(path);
  out << doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  check_written(out, path);
}

struct MatFileCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct MatVarFree {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatVar = std::unique_ptr<matvar_t, MatVarFree>;

// A column vector that refers to `values` (kept alive by the caller until written).
template <typename T>
matvar_t* column(const std::vector<T>& values, matio_classes cls, matio_types type) {
  std::size_t dims[2] = {values.size(), 1};
  return Mat_VarCreate(nullptr, cls, type, 2, dims, const_cast<T*>(values.data()),
                       MAT_F_DONT_COPY_DATA);
}

matvar_t* text(const std::string& value, const char* name = nullptr) {
  std::size_t dims[2] = {1, value.size()};
  return Mat_VarCreate(name, MAT_C_CHAR, MAT_T_UTF8, 2, dims, const_cast<char*>(value.data()),
                       MAT_F_DONT_COPY_DATA);
}

matvar_t* scalar(const double& value, const char* name) {
  std::size_t dims[2] = {1, 1};
  return Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, const_cast<double*>(&value),
                       MAT_F_DONT_COPY_DATA);
}

// MATLAB v5: one struct per set (set_000, set_001, …) with the signals as column vectors and
// the set's description as text, plus subject_id and body_mass_kg.
void export_mat(const Session& session, const fs::path& path) {
  const std::unique_ptr<mat_t, MatFileCloser> mat(
      Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5));
  if (!mat) throw std::runtime_error(fmt::format("export: cannot create {}", path.string()));
  const auto write = [&](matvar_t* var, const std::string& name) {
    if (var == nullptr || Mat_VarWrite(mat.get(), var, MAT_COMPRESSION_NONE) != 0) {
      throw std::runtime_error(fmt::format("export: writing {} to {} failed", name, path.string()));
    }
  };
  {
    const MatVar id(text(session.info.subject.id, "subject_id"));
    write(id.get(), "subject_id");
    const MatVar mass(scalar(session.info.subject.body_mass_kg, "body_mass_kg"));
    write(mass.get(), "body_mass_kg");
  }
  static const char* kFields[] = {"time_s",         "torque_nm", "angle_deg",
                                  "velocity_deg_s", "status",    "kind",
                                  "label",          "side",      "mode"};
  constexpr unsigned kFieldCount = sizeof(kFields) / sizeof(kFields[0]);
  for (const RecordedSet& set : session.sets) {
    const std::string name = fmt::format("set_{:03d}", set.info.index);
    std::size_t dims[2] = {1, 1};
    const MatVar st(Mat_VarCreateStruct(name.c_str(), 2, dims, kFields, kFieldCount));
    if (!st) throw std::runtime_error("export: cannot make the MATLAB struct " + name);
    const std::string side(drivers::to_string(set.info.setpoint.side));
    const std::string mode(drivers::to_string(set.info.setpoint.mode));
    const auto& sig = set.signals;
    matvar_t* fields[kFieldCount] = {column(sig.time, MAT_C_DOUBLE, MAT_T_DOUBLE),
                                     column(sig.torque, MAT_C_DOUBLE, MAT_T_DOUBLE),
                                     column(sig.angle, MAT_C_DOUBLE, MAT_T_DOUBLE),
                                     column(sig.velocity, MAT_C_DOUBLE, MAT_T_DOUBLE),
                                     column(sig.status, MAT_C_UINT32, MAT_T_UINT32),
                                     text(set.info.kind),
                                     text(set.info.label),
                                     text(side),
                                     text(mode)};
    for (unsigned f = 0; f < kFieldCount; ++f) {
      if (fields[f] == nullptr) {
        for (unsigned g = f + 1; g < kFieldCount; ++g) Mat_VarFree(fields[g]);
        throw std::runtime_error("export: cannot fill " + name);
      }
      // The struct owns the field from here on and frees it with itself (not the data, which
      // the session owns: MAT_F_DONT_COPY_DATA).
      Mat_VarSetStructFieldByName(st.get(), kFields[f], 0, fields[f]);
    }
    write(st.get(), name);
  }
}

}  // namespace

int run_export(const ExportOptions& o, std::ostream& out) {
  if (o.format != "csv" && o.format != "json" && o.format != "mat") {
    throw std::runtime_error("export: --format must be csv, json or mat, got '" + o.format + "'");
  }
  std::error_code error;
  if (fs::exists(o.out, error)) {
    throw std::runtime_error(fmt::format(
        "export: {} exists; give a new name (exports never overwrite)", o.out.string()));
  }
  Session session = acquisition::read_untrusted_session(o.file);
  if (o.anonymize) anonymize(session, o.subject, o.drop_subject_details);
  const auto analysis = analysis::analyze_session(session);
  if (o.format == "csv") {
    export_csv(session, analysis, o.out);
  } else {
    // The file appears only when whole, and never over one that appeared meanwhile.
    acquisition::PendingFile pending(o.out);
    if (o.format == "json") {
      export_json(session, analysis, pending.path());
    } else {
      export_mat(session, pending.path());
    }
    pending.commit();
  }
  std::size_t samples = 0;
  for (const auto& set : session.sets) samples += set.signals.size();
  fmt::print(out, "{}: {} set(s), {} samples, {} event(s) exported as {} to {}{}\n",
             o.file.string(), session.sets.size(), samples, session.events.size(), o.format,
             o.out.string(), o.anonymize ? " (anonymized)" : "");
  return 0;
}

}  // namespace isokin::cli
