#pragma once
// Thin RAII over HDF5 C identifiers, private to session_file.cpp. Every checked call turns an
// HDF5 failure into a one-line SessionFileError "<path>: <action>: <reason>", where the reason
// is the most specific message on HDF5's error stack, so users never see HDF5's own dump.

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "isokin/acquisition/session_file.h"

namespace isokin::acquisition::hdf5 {

// HDF5 prints its error stack to stderr by default. The stack is per thread in the thread-safe
// build Debian ships, so this must run on every thread before its first HDF5 call.
void silence_error_printing();

// The most useful words on the calling thread's HDF5 error stack: the operating system's
// message when there is one ("No space left on device"), otherwise the innermost description.
// Empty when the stack is empty.
std::string error_stack_reason();

// Owns one HDF5 identifier and closes it with Close.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) noexcept : id_(id) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }

  [[nodiscard]] hid_t get() const noexcept { return id_; }
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }

  // Closes now and returns HDF5's verdict: closing a file writes its metadata, so a writer
  // checks this result instead of relying on the destructor.
  herr_t close() noexcept {
    herr_t result = 0;
    if (id_ >= 0) result = Close(id_);
    id_ = H5I_INVALID_HID;
    return result;
  }

  // Forgets the identifier without closing it, for a file whose write failed: closing would
  // make HDF5 write more, and a failed close in HDF5 1.10 can leave a file unreadable.
  void abandon() noexcept { id_ = H5I_INVALID_HID; }

  // Used on unwinding and destruction, where there is nobody left to report a failed close to;
  // callers that care about the outcome call close() and check it first.
  void reset() noexcept { static_cast<void>(close()); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using PropertyList = Handle<H5Pclose>;
using Object = Handle<H5Oclose>;

// Which file an operation is about and which kind of SessionFileError its failures are.
class ErrorContext {
 public:
  ErrorContext(const std::filesystem::path& path, SessionFileError::Kind kind)
      : path_(path), kind_(kind) {}

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] SessionFileError::Kind kind() const noexcept { return kind_; }

  // Throws SessionFileError(kind, path, problem).
  [[noreturn]] void fail(const std::string& problem) const;
  // Throws with HDF5's reason appended: "<action>: <reason>".
  [[noreturn]] void fail_with_hdf5_reason(std::string_view action) const;

  // Returns id, or throws when HDF5 returned an invalid identifier.
  hid_t check_id(hid_t id, std::string_view action) const {
    if (id < 0) fail_with_hdf5_reason(action);
    return id;
  }
  // Throws when an herr_t result is negative.
  void check(herr_t result, std::string_view action) const {
    if (result < 0) fail_with_hdf5_reason(action);
  }
  // Returns the answer of a yes/no (htri_t) query, or throws when the query itself failed.
  bool check_tri(htri_t answer, std::string_view action) const {
    if (answer < 0) fail_with_hdf5_reason(action);
    return answer > 0;
  }

 private:
  const std::filesystem::path& path_;
  SessionFileError::Kind kind_;
};

}  // namespace isokin::acquisition::hdf5
