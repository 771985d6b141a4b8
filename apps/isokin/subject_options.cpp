#include "subject_options.h"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/domain.h"

namespace isokin::cli {

void add_subject_detail_options(CLI::App& command, SubjectDetailOptions& options) {
  const std::string group = "Subject (stored in the session, used by `isokin cohort`)";
  command.add_option("--sex", options.sex, "female, male or other")
      ->check(CLI::IsMember({"female", "male", "other"}))
      ->group(group);
  command.add_option("--age", options.age_years, "Age at the session, whole years")
      ->check(CLI::Range(1, acquisition::kMaxAgeYears))
      ->group(group);
  command.add_option("--sport", options.sport, "Sport or activity, free text (e.g. football)")
      ->group(group);
  command.add_option("--dominant-side", options.dominant_side, "left or right")
      ->check(CLI::IsMember({"left", "right"}))
      ->group(group);
  command
      .add_option("--injured-side", options.injured_side, "left, right, or none (no injured side)")
      ->check(CLI::IsMember({"left", "right", "none"}))
      ->group(group);
}

void apply_subject_details(const SubjectDetailOptions& options, acquisition::SubjectInfo& subject) {
  if (!options.sex.empty()) subject.sex = options.sex;
  if (options.age_years != 0) subject.age_years = options.age_years;
  if (!options.sport.empty()) subject.sport = options.sport;
  if (!options.dominant_side.empty())
    subject.dominant_side = drivers::parse_side(options.dominant_side);
  if (!options.injured_side.empty())
    subject.injured_side = drivers::parse_side(options.injured_side);
  try {
    acquisition::check_subject_info(subject);
  } catch (const std::invalid_argument& error) {
    // Values CLI11 let through but a file cannot hold (a sport of over 256 bytes).
    throw std::runtime_error(error.what());
  }
}

std::string describe_subject_details(const acquisition::SubjectInfo& subject) {
  std::vector<std::string> parts;
  if (!subject.sex.empty()) parts.push_back(subject.sex);
  if (subject.age_years > 0) parts.push_back(fmt::format("{} years", subject.age_years));
  if (!subject.sport.empty()) parts.push_back(subject.sport);
  if (subject.dominant_side) {
    parts.push_back(fmt::format("dominant side {}", drivers::to_string(*subject.dominant_side)));
  }
  if (subject.injured_side) {
    parts.push_back(
        *subject.injured_side == drivers::Side::kNone
            ? std::string("no injured side")
            : fmt::format("injured side {}", drivers::to_string(*subject.injured_side)));
  }
  return parts.empty() ? std::string("not recorded") : fmt::format("{}", fmt::join(parts, ", "));
}

nlohmann::ordered_json subject_json(const acquisition::SubjectInfo& subject) {
  const auto text_or_null = [](const std::string& text) {
    return text.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(text);
  };
  const auto side_or_null = [](const std::optional<drivers::Side>& side) {
    return side ? nlohmann::ordered_json(std::string(drivers::to_string(*side)))
                : nlohmann::ordered_json();
  };
  return {{"subject_id", subject.id},
          {"body_mass_kg", subject.body_mass_kg},
          {"sex", text_or_null(subject.sex)},
          {"age_years", subject.age_years > 0 ? nlohmann::ordered_json(subject.age_years)
                                              : nlohmann::ordered_json()},
          {"sport", text_or_null(subject.sport)},
          {"dominant_side", side_or_null(subject.dominant_side)},
          {"injured_side", side_or_null(subject.injured_side)}};
}

}  // namespace isokin::cli
