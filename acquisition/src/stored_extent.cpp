#include "stored_extent.h"

#include <algorithm>

namespace isokin::acquisition::hdf5 {

bool set_private_access_flag(hid_t fapl, const char* name) {
  if (H5Pexist(fapl, name) <= 0) return false;
  hbool_t on = true;
  return H5Pset(fapl, name, &on) >= 0;
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
