#include "crashed_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace isokin::acquisition::hdf5 {

bool set_private_access_flag(hid_t fapl, const char* name) {
  if (H5Pexist(fapl, name) <= 0) return false;
  hbool_t on = true;
  return H5Pset(fapl, name, &on) >= 0;
}

namespace {

// Copies the bytes of `from` into the open descriptor `into`; returns 0 or an errno value.
int copy_bytes(const std::filesystem::path& from, int into) {
  const int source = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (source < 0) return errno;
  std::vector<char> buffer(std::size_t{1} << 20);
  int error = 0;
  for (;;) {
    const ssize_t got = ::read(source, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error = got < 0 ? errno : 0;
      break;
    }
    for (ssize_t done = 0; done < got && error == 0;) {
      const ssize_t put = ::write(into, buffer.data() + done, static_cast<std::size_t>(got - done));
      if (put < 0 && errno != EINTR) error = errno;
      if (put > 0) done += put;
    }
    if (error != 0) break;
  }
  ::close(source);
  return error;
}

}  // namespace

File open_cleared_copy(const ErrorContext& ctx, hid_t writable_fapl, hid_t read_fapl) {
  const std::filesystem::path original = ctx.path();
  std::string copy = (std::filesystem::temp_directory_path() / "isokin-cleared-XXXXXX").string();
  const int descriptor = ::mkostemp(copy.data(), O_CLOEXEC);  // mode 0600
  if (descriptor < 0) {
    ctx.fail(
        fmt::format("left open for writing by a writer that stopped; cannot make a readable "
                    "copy in {}: {}",
                    std::filesystem::temp_directory_path().string(), std::strerror(errno)));
  }
  // Removed however this ends: an open handle keeps reading it.
  struct Remove {
    std::string path;
    ~Remove() { ::unlink(path.c_str()); }
  } remove{copy};
  const int copied = copy_bytes(original, descriptor);
  const int closed = ::close(descriptor) == 0 ? 0 : errno;
  if (copied != 0 || closed != 0) {
    ctx.fail(fmt::format("left open for writing by a writer that stopped; cannot copy it to {}: {}",
                         copy, std::strerror(copied != 0 ? copied : closed)));
  }
  const std::string action = "left open for writing by a writer that stopped, and unreadable";
  (void)set_private_access_flag(writable_fapl, "clear_status_flags");
  (void)set_private_access_flag(writable_fapl, "skip_eof_check");
  {
    File cleared{ctx.check_id(H5Fopen(copy.c_str(), H5F_ACC_RDWR, writable_fapl), action)};
    ctx.check(H5Fincrement_filesize(cleared.get(), 0), action);
    ctx.check(cleared.close(), action);
  }
  return File{ctx.check_id(H5Fopen(copy.c_str(), H5F_ACC_RDONLY, read_fapl),
                           "cannot be opened as an HDF5 file (truncated or damaged?)")};
}

hsize_t rows_stored_before(const ErrorContext& ctx, hid_t dataset, const std::string& path,
                           hsize_t rows, haddr_t file_end) {
  const std::string action = "cannot locate the storage of " + path;
  const PropertyList creation{ctx.check_id(H5Dget_create_plist(dataset), action)};
  const H5D_layout_t layout = H5Pget_layout(creation.get());
  if (layout == H5D_COMPACT) return rows;
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t start = H5Dget_offset(dataset);
    if (start == HADDR_UNDEF) return 0;  // never written
    const hsize_t bytes = H5Dget_storage_size(dataset);
    return start <= file_end && bytes <= file_end - start ? rows : 0;
  }
  if (layout != H5D_CHUNKED) ctx.fail(path + " has an unknown storage layout");
  hsize_t chunk_rows = 0;
  if (H5Pget_chunk(creation.get(), 1, &chunk_rows) != 1 || chunk_rows == 0) {
    ctx.fail(path + " is not a one-dimensional chunked dataset");
  }
  // libhdf5 1.10.8 takes the dataset's own dataspace here, not H5S_ALL.
  const Dataspace space{ctx.check_id(H5Dget_space(dataset), action)};
  hsize_t chunks = 0;
  ctx.check(H5Dget_num_chunks(dataset, space.get(), &chunks), action);
  hsize_t kept = rows;
  for (hsize_t i = 0; i < chunks; ++i) {
    hsize_t first_row = 0;
    unsigned filter_mask = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t bytes = 0;
    ctx.check(
        H5Dget_chunk_info(dataset, space.get(), i, &first_row, &filter_mask, &address, &bytes),
        action);
    if (address == HADDR_UNDEF || address > file_end || bytes > file_end - address) {
      kept = std::min(kept, first_row);
    }
  }
  return kept;
}

}  // namespace isokin::acquisition::hdf5
