#pragma once
// What a session file that was cut short (or left open by a killed writer) still holds, and
// how HDF5 is asked to open such a file read-only (docs/security.md "Files from elsewhere").
#include <hdf5.h>

#include <filesystem>
#include <string>

#include "hdf5_handles.h"

namespace isokin::acquisition::hdf5 {

// Sets one of the file-access properties h5clear uses ("clear_status_flags": open a file whose
// superblock still says "open for writing"; "skip_eof_check": open a file shorter than its
// recorded end of allocation). They are private to libhdf5 1.10 but registered in every
// file-access list; opened read-only, HDF5 writes nothing to the file with them. Returns false
// when this libhdf5 does not have the property (nothing is set then).
bool set_private_access_flag(hid_t fapl, const char* name);

// Opens, read-only with read_fapl, a private copy of a file whose superblock still says "open for
// writing" (its writer was killed outside SWMR mode), made readable the way `h5clear -s
// --increment=0` makes a file readable: the mark cleared, and HDF5's end of allocation raised
// to the file's length, because a writer killed while HDF5 flushed may have written metadata
// past the end its superblock records. The copy (mode 0600: it holds the same health data) is
// made in the temporary directory and deleted at once; the handle keeps it readable until it
// is closed. The original is only read.
File open_cleared_copy(const ErrorContext& ctx, hid_t writable_fapl, hid_t read_fapl);

// The number of leading rows of a one-dimensional dataset whose storage lies wholly before
// file_end (bytes): reading past the end of a file returns zeros, which must never pass for
// recorded values. Chunked datasets keep the rows before their first chunk past the end;
// contiguous ones all or nothing; compact ones (stored in the object header) all.
hsize_t rows_stored_before(const ErrorContext& ctx, hid_t dataset, const std::string& path,
                           hsize_t rows, haddr_t file_end);

}  // namespace isokin::acquisition::hdf5
