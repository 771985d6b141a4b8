// `isokin import`: another program's recording to a session file. The importers live in
// acquisition (isokin/acquisition/import.h); this maps the command line onto them.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <utility>

#include <optional>
#include "analysis_cli.h"
#include "isokin/acquisition/import.h"

#include "isokin/acquisition/session_file.h"

namespace isokin::cli {

acquisition::ImportContext import_context(const ImportOptions& o) {
  const auto joint =
      o.joint.empty() ? std::optional<drivers::Joint>() : drivers::parse_joint(o.joint);
  if (!o.joint.empty() && !joint) {
    throw std::runtime_error("import: --joint must be knee or trunk, got '" + o.joint + "'");
  }
  acquisition::ImportContext context;
  context.joint = joint;
  // The trunk is tested once, not per side.
  if (joint == drivers::Joint::kTrunk) {
    context.side = drivers::Side::kNone;
  } else if (o.side_given) {
    context.side = drivers::parse_side(o.side);
    if (!context.side || *context.side == drivers::Side::kNone) {
      throw std::runtime_error("import: --side must be left or right, got '" + o.side + "'");
    }
  }
  if (!o.mode.empty()) {
    context.mode = drivers::parse_contraction_mode(o.mode);
    if (!context.mode) {
      throw std::runtime_error(
          "import: --mode must be isometric, concentric/concentric, "
          "concentric/eccentric or eccentric/eccentric, got '" +
          o.mode + "'");
    }
  }
  acquisition::SubjectInfo subject;  // checked before anything is read
  apply_subject_details(o.subject_details, subject);
  context.set_velocity = o.velocity;
  context.subject = o.subject;
  context.body_mass_kg = o.body_mass_kg;
  context.sex = subject.sex;
  context.age_years = subject.age_years;
  context.sport = subject.sport;
  context.dominant_side = subject.dominant_side;
  context.injured_side = subject.injured_side;
  return context;
}

acquisition::ImportOptions importer_options(const ImportOptions& o) {
  acquisition::ImportOptions options;
  if (!o.format.empty()) {
    options.format = acquisition::parse_import_format(o.format);
    if (!options.format) {
      throw std::runtime_error("import: --format '" + o.format + "' is not one of " +
                               acquisition::import_format_names());
    }
  }
  options.columns = o.columns;
  options.rate_hz = o.rate_hz;
  options.delimiter = o.delimiter;
  options.decimal = o.decimal;
  options.skip_rows = o.skip_rows;
  options.scales = o.scales;
  options.negate = o.negate;
  options.limits = o.limits;
  options.profile = o.profile;
  options.mat_variable = o.variable;
  options.rom_start_angle = o.rom_start_angle;
  return options;
}

ImportResult import_file(const ImportOptions& o) {
  const auto context = import_context(o);
  const auto recording = acquisition::import_recording(o.file, importer_options(o));
  auto path = o.out_dir / (o.file.stem().string() + ".h5");
  check_replaceable(path);
  acquisition::write_imported_session(recording, context, path);
  return {std::move(path), std::string(acquisition::import_format_name(recording.format)),
          recording.warnings};
}

void check_replaceable(const std::filesystem::path& session_file) {
  std::error_code error;
  if (!std::filesystem::exists(session_file, error)) return;
  // Re-importing replaces an earlier import of the same export; a recorded session is never
  // overwritten, whatever its name.
  std::string why;
  try {
    const auto existing = acquisition::read_untrusted_session(session_file);
    if (existing.info.device.driver == "import") return;
    why = "it holds a session recorded with the '" + existing.info.device.driver + "' driver";
  } catch (const std::exception& e) {
    why = std::string("it is not a readable session file (") + e.what() + ")";
  }
  throw std::runtime_error(session_file.string() + " exists and " + why +
                           ": not replaced; choose another --out or move it");
}

int run_import(const ImportOptions& options, std::ostream& out) {
  const auto result = import_file(options);
  const auto session = acquisition::read_session(result.session_file);
  const auto& set = session.sets.at(0);
  fmt::print(out, "{} ({}): {} samples at {:.6g} Hz ({:.2f} s) -> {}\n", options.file.string(),
             result.format, set.signals.size(), session.info.device.sample_rate_hz,
             set.signals.time.back() - set.signals.time.front(), result.session_file.string());
  for (const auto& warning : result.warnings) fmt::print(out, "  warning: {}\n", warning);
  return 0;
}

}  // namespace isokin::cli
