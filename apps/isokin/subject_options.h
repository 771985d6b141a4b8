#pragma once
// --sex, --age, --sport, --dominant-side, --injured-side: the subject's descriptive fields
// (session file format version 4), shared by `isokin run`, `demo` and `import`.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "isokin/acquisition/session.h"

namespace isokin::cli {

struct SubjectDetailOptions {
  std::string sex;  // female, male, other; empty: not given
  int age_years = 0;
  std::string sport;
  std::string dominant_side;  // left, right
  std::string injured_side;   // left, right, none
};

void add_subject_detail_options(CLI::App& command, SubjectDetailOptions& options);

// Sets the fields that were given on the command line; the others keep their value. Throws
// std::runtime_error naming the option when a value is not allowed.
void apply_subject_details(const SubjectDetailOptions& options, acquisition::SubjectInfo& subject);

// "female, 27 years, football, dominant side right, no injured side": the fields recorded, in
// words; "not recorded" when none is.
std::string describe_subject_details(const acquisition::SubjectInfo& subject);

// {"subject_id", "body_mass_kg", "sex", "age_years", "sport", "dominant_side", "injured_side"}
// for JSON results and exports: a detail not recorded is null, never a default.
nlohmann::ordered_json subject_json(const acquisition::SubjectInfo& subject);

}  // namespace isokin::cli
