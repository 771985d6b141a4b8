#include "isokin/acquisition/new_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <system_error>

namespace isokin::acquisition {

namespace fs = std::filesystem;

namespace {

// A write lock over the whole file, owned by the open file description (not the process), so
// HDF5 opening and closing the same file in this process never releases it.
flock whole_file_lock(short type) {
  flock lock{};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  return lock;
}

// Whether another open file description holds a write lock on `path` (a recording).
bool locked_by_a_recording(const fs::path& path) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (descriptor < 0) return false;
  flock probe = whole_file_lock(F_WRLCK);
  const bool locked = ::fcntl(descriptor, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(descriptor);
  return locked;
}

[[noreturn]] void refuse_existing(const fs::path& path) {
  if (locked_by_a_recording(path)) {
    throw std::runtime_error(fmt::format(
        "{} is being recorded right now by another program; give a new name", path.string()));
  }
  throw std::runtime_error(fmt::format(
      "{} exists: a recording never overwrites a file; give a new name", path.string()));
}

std::string random_suffix() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> hex_digit(0, 15);
  std::string suffix(12, '0');
  for (char& c : suffix) c = "0123456789abcdef"[hex_digit(device)];
  return suffix;
}

// Moves `from` to `to` unless `to` exists: renameat2(RENAME_NOREPLACE) where the file system
// has it, else a hard link (which never replaces) and an unlink. Returns errno, 0 on success.
int rename_without_replacing(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return errno;
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  ::unlink(from.c_str());
  return 0;
}

}  // namespace

RecordingFile::RecordingFile(const fs::path& path) {
  descriptor_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (descriptor_ < 0) {
    if (errno == EEXIST) refuse_existing(path);
    throw std::runtime_error(
        fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  flock lock = whole_file_lock(F_WRLCK);
  if (::fcntl(descriptor_, F_OFD_SETLK, &lock) != 0) {
    const int error = errno;
    ::close(descriptor_);
    ::unlink(path.c_str());  // created empty just above: nothing of anyone's is lost
    throw std::runtime_error(
        fmt::format("cannot lock {} for recording: {}", path.string(), std::strerror(error)));
  }
}

RecordingFile::~RecordingFile() {
  if (descriptor_ >= 0) ::close(descriptor_);  // releases the lock
}

void RecordingFile::check_new(const fs::path& path) {
  std::error_code error;
  if (fs::symlink_status(path, error).type() != fs::file_type::not_found) refuse_existing(path);
}

PendingFile::PendingFile(fs::path target) : target_(std::move(target)) {
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  constexpr int kAttempts = 100;  // 48 random bits: a clash is already unlikely once
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    fs::path candidate = dir / ("." + target_.filename().string() + ".partial-" + random_suffix());
    const int descriptor =
        ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (descriptor >= 0) {
      ::close(descriptor);
      temporary_ = std::move(candidate);
      return;
    }
    if (errno != EEXIST) {
      throw std::runtime_error(fmt::format("cannot create a temporary file in {} for {}: {}",
                                           dir.string(), target_.string(), std::strerror(errno)));
    }
  }
  throw std::runtime_error(
      fmt::format("cannot create a temporary file in {} for {}: {} names taken", dir.string(),
                  target_.string(), kAttempts));
}

PendingFile::~PendingFile() {
  if (!committed_) ::unlink(temporary_.c_str());  // only ever our own file
}

void PendingFile::commit(Existing existing) {
  if (existing == Existing::kReplace) {
    if (::rename(temporary_.c_str(), target_.c_str()) != 0) {
      throw std::runtime_error(fmt::format("cannot move {} to {}: {}", temporary_.string(),
                                           target_.string(), std::strerror(errno)));
    }
  } else if (const int error = rename_without_replacing(temporary_, target_); error != 0) {
    throw std::runtime_error(
        error == EEXIST
            ? fmt::format("{} appeared while it was being written; it is left as it is and "
                          "nothing was written there",
                          target_.string())
            : fmt::format("cannot move {} to {}: {}", temporary_.string(), target_.string(),
                          std::strerror(error)));
  }
  committed_ = true;
}

}  // namespace isokin::acquisition
