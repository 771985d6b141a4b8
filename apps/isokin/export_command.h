#pragma once
// `isokin export FILE --format csv|json|mat --out PATH [--anonymize]` (docs/export.md).

#include <filesystem>
#include <ostream>
#include <string>

namespace isokin::cli {

struct ExportOptions {
  std::filesystem::path file;
  std::string format;  // csv, json, mat
  std::filesystem::path out;
  bool anonymize = false;
  std::string subject = "anonymous";
  bool drop_subject_details = false;  // with anonymize: sex, age, sport and sides too
};

int run_export(const ExportOptions& options, std::ostream& out);

}  // namespace isokin::cli
