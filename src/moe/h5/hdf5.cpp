// RAII wrapper over the HDF5 C API (see hdf5.hpp for the contract).
//
// Conventions used throughout this file:
//  * Every hid_t lives in a Handle that closes it on every path, exceptions included.
//  * HDF5's automatic error printing is switched off (per thread: the Debian build is thread-safe, where
//    the setting is thread-local); failures become one-line moe::Error messages naming the file and the
//    object. Where HDF5 itself failed unexpectedly, its innermost error description is appended.
//  * Object paths are normalised: "/a//b/" -> "a/b", and "" or "/" is the root. Messages show the
//    normalised name ('model/gate/W'; the root as '/').
//  * Layout: arma::mat r x c (column-major) <-> 2-D dataset dims {r, c} (row-major, as h5py shows it), so
//    element (i, j) is element [i, j] in Python. Writing transposes into a c x r buffer whose column-major
//    memory is exactly the row-major order of the r x c matrix; reading does the reverse.
#include "moe/h5/hdf5.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"

namespace moe::h5 {

static_assert(std::is_same_v<hid_t, std::int64_t>, "hdf5.hpp stores hid_t as std::int64_t (HDF5 >= 1.10)");
static_assert(sizeof(arma::uword) == sizeof(std::uint64_t),
              "uvec datasets are read and written in place as uint64; build Armadillo with 64-bit words");

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------------
// Errors

// Switch off HDF5's stack dumps on stderr for the calling thread (the setting is per thread in a
// thread-safe build, so every public entry point calls this; after the first call it is a no-op).
void quiet() {
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

// The most specific description on HDF5's error stack, on one line ("" when the stack is empty), and
// clear the stack.
std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        if (n == 0 && e && e->desc) *static_cast<std::string*>(data) = e->desc;
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  std::replace(reason.begin(), reason.end(), '\r', ' ');
  return reason;
}

// "<file>: <what>" plus HDF5's own reason when it gave one.
[[noreturn]] void fail_h5(const std::string& file, const std::string& what) {
  const std::string reason = hdf5_reason();
  fail(file + ": " + what + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
}

void check(herr_t status, const std::string& file, const std::string& what) {
  if (status < 0) fail_h5(file, what);
}

// ---------------------------------------------------------------------------------------------------
// Handles

// Owns one hid_t and closes it with the matching H5xclose.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      close_ = o.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: pass straight to H5 calls
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// Wraps a freshly returned id, failing with "<file>: <what>" when HDF5 returned an error.
Handle make(hid_t id, Handle::Closer close, const std::string& file, const std::string& what) {
  if (id < 0) fail_h5(file, what);
  return Handle(id, close);
}

Handle plist(hid_t cls, const std::string& file) { return make(H5Pcreate(cls), H5Pclose, file, "cannot create a property list"); }

// Link creation: names as UTF-8, so non-ASCII names show correctly in h5py.
Handle link_plist(const std::string& file) {
  Handle p = plist(H5P_LINK_CREATE, file);
  check(H5Pset_char_encoding(p, H5T_CSET_UTF8), file, "cannot set the link name encoding");
  return p;
}

// Object creation (groups, datasets): no modification times, so identical content gives identical bytes.
Handle object_plist(hid_t cls, const std::string& file) {
  Handle p = plist(cls, file);
  check(H5Pset_obj_track_times(p, 0), file, "cannot switch off time tracking");
  return p;
}

// File access: tolerate file systems without flock (else HDF5 >= 1.10.7 refuses to create files there).
Handle file_access_plist(const std::string& file) {
  Handle p = plist(H5P_FILE_ACCESS, file);
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
  check(H5Pset_file_locking(p, 1, 1), file, "cannot set file locking");
#endif
  return p;
}

// Variable-length UTF-8 string type: the type of every string this library writes.
Handle vlen_utf8_type(const std::string& file) {
  Handle t = make(H5Tcopy(H5T_C_S1), H5Tclose, file, "cannot create a string type");
  check(H5Tset_size(t, H5T_VARIABLE), file, "cannot create a string type");
  check(H5Tset_cset(t, H5T_CSET_UTF8), file, "cannot create a string type");
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Paths and objects

// "/a//b/" -> "a/b"; "" and "/" -> "" (the root).
std::string normalize(const std::string& path) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t j = std::min(path.find('/', i), path.size());
    if (j > i) {
      if (!out.empty()) out += '/';
      out.append(path, i, j - i);
    }
    i = j + 1;
  }
  return out;
}

std::string abs_name(const std::string& norm) { return "/" + norm; }              // what HDF5 is given
std::string show(const std::string& norm) { return norm.empty() ? "/" : norm; }   // what messages show
std::string quoted(const std::string& norm) { return "'" + show(norm) + "'"; }

std::string parent_of(const std::string& norm) {
  const std::size_t k = norm.rfind('/');
  return k == std::string::npos ? std::string() : norm.substr(0, k);
}

enum class Kind { missing, group, dataset, other };

// What `norm` names in the file. Never throws for a missing or malformed path.
Kind kind_of(hid_t file, const std::string& norm) {
  if (norm.empty()) return Kind::group;
  // H5Lexists fails (rather than answering false) when an intermediate link is missing or is not a
  // group, so test each prefix in turn.
  for (std::size_t pos = 0;;) {
    pos = norm.find('/', pos);
    const std::string prefix = norm.substr(0, pos);
    if (H5Lexists(file, abs_name(prefix).c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return Kind::missing;
    }
    if (pos == std::string::npos) break;
    ++pos;
  }
  const hid_t obj = H5Oopen(file, abs_name(norm).c_str(), H5P_DEFAULT);
  if (obj < 0) {  // a dangling soft or external link
    H5Eclear2(H5E_DEFAULT);
    return Kind::missing;
  }
  const Handle h(obj, H5Oclose);
  switch (H5Iget_type(obj)) {
    case H5I_GROUP:
      return Kind::group;
    case H5I_DATASET:
      return Kind::dataset;
    default:
      return Kind::other;  // a committed datatype
  }
}

// Creates `norm` and its missing parents as groups; fails when a prefix is something else.
void ensure_group(hid_t file, const std::string& where, const std::string& norm) {
  for (std::size_t pos = 0; !norm.empty();) {
    pos = norm.find('/', pos);
    const std::string prefix = norm.substr(0, pos);
    switch (kind_of(file, prefix)) {
      case Kind::group:
        break;
      case Kind::missing: {
        const Handle lcpl = link_plist(where), gcpl = object_plist(H5P_GROUP_CREATE, where);
        make(H5Gcreate2(file, abs_name(prefix).c_str(), lcpl, gcpl, H5P_DEFAULT), H5Gclose, where,
             "cannot create group " + quoted(prefix));
        break;
      }
      default:
        fail(where + ": cannot create group " + quoted(prefix) + ": a dataset of that name exists");
    }
    if (pos == std::string::npos) break;
    ++pos;
  }
}

// Makes room for a new dataset at `norm`: parents created, an existing dataset unlinked.
void prepare_dataset_slot(hid_t file, const std::string& where, const std::string& norm) {
  if (norm.empty()) fail(where + ": cannot write a dataset at the root '/': give it a name");
  ensure_group(file, where, parent_of(norm));
  if (kind_of(file, norm) == Kind::group)
    fail(where + ": cannot write dataset " + quoted(norm) + ": a group of that name exists");
  if (H5Lexists(file, abs_name(norm).c_str(), H5P_DEFAULT) > 0)
    check(H5Ldelete(file, abs_name(norm).c_str(), H5P_DEFAULT), where, "cannot replace dataset " + quoted(norm));
  H5Eclear2(H5E_DEFAULT);
}

// Creates the dataset `norm` with the given dims and writes n elements from data (in row-major order
// of dims), replacing what was there.
void write_dataset(hid_t file, const std::string& where, const std::string& norm, const std::vector<hsize_t>& dims,
                   hid_t file_type, hid_t mem_type, const void* data, std::size_t n) {
  prepare_dataset_slot(file, where, norm);
  const std::string what = "cannot write dataset " + quoted(norm);
  // Zero-length dims are allowed in a fixed-size simple dataspace, so empty matrices round-trip.
  const Handle space = make(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose, where, what);
  const Handle lcpl = link_plist(where), dcpl = object_plist(H5P_DATASET_CREATE, where);
  const Handle ds =
      make(H5Dcreate2(file, abs_name(norm).c_str(), file_type, space, lcpl, dcpl, H5P_DEFAULT), H5Dclose, where, what);
  if (n > 0) check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), where, what);
}

// An open dataset with its stored type, dataspace and dims.
struct OpenDataset {
  Handle ds, type, space;
  std::vector<hsize_t> dims;  // {} for a scalar (or null) dataspace
  H5T_class_t cls = H5T_NO_CLASS;
  std::size_t count() const {
    std::size_t n = 1;
    for (hsize_t d : dims) n *= std::size_t(d);
    return n;
  }
};

OpenDataset open_dataset(hid_t file, const std::string& where, const std::string& norm) {
  switch (kind_of(file, norm)) {
    case Kind::dataset:
      break;
    case Kind::missing:
      fail(where + ": dataset " + quoted(norm) + " is missing");
    case Kind::group:
      fail(where + ": " + quoted(norm) + " is a group, not a dataset");
    default:
      fail(where + ": " + quoted(norm) + " is not a dataset");
  }
  const std::string what = "cannot read dataset " + quoted(norm);
  OpenDataset d;
  d.ds = make(H5Dopen2(file, abs_name(norm).c_str(), H5P_DEFAULT), H5Dclose, where, what);
  d.type = make(H5Dget_type(d.ds), H5Tclose, where, what);
  d.space = make(H5Dget_space(d.ds), H5Sclose, where, what);
  d.cls = H5Tget_class(d.type);
  if (H5Sget_simple_extent_type(d.space) == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(d.space);
    if (rank < 0) fail_h5(where, what);
    d.dims.resize(std::size_t(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(d.space, d.dims.data(), nullptr) < 0) fail_h5(where, what);
  }
  return d;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string class_text(H5T_class_t cls) {
  switch (cls) {
    case H5T_STRING:
      return "strings";
    case H5T_ENUM:
      return "enum values, as h5py stores booleans";
    case H5T_COMPOUND:
      return "records";
    default:
      return "non-numeric values";
  }
}

// This machine's physical memory in bytes (2^40 when the system will not say).
double memory_bytes() {
  static const double bytes = [] {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? double(pages) * double(page) : 1099511627776.0;
  }();
  return bytes;
}

std::string count_text(double values) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.0f", values);
  return buf;
}

std::string gib_text(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / 1073741824.0);
  return buf;
}

// Refuses, before anything is allocated, a dataset whose values would not fit in this machine's memory at
// `bytes_per_value` each: an HDF5 file can declare 2^60 values and store none of them (chunked storage is
// allocated as it is written), so the extent alone proves nothing. (Also keeps OpenDataset::count() from
// overflowing: below the memory size, the product of the dims fits in a size_t.)
void require_fits(const OpenDataset& d, double bytes_per_value, const std::string& where, const std::string& norm) {
  double values = 1;
  for (hsize_t n : d.dims) values *= double(n);
  if (values * bytes_per_value > memory_bytes())
    fail(where + ": dataset " + quoted(norm) + " has shape " + shape_text(d.dims) + ": its " + count_text(values) +
         " values need " + gib_text(values * bytes_per_value) + " of memory, more than this machine's " +
         gib_text(memory_bytes()));
}

void require_numeric(const OpenDataset& d, const std::string& where, const std::string& norm) {
  if (d.cls != H5T_INTEGER && d.cls != H5T_FLOAT)
    fail(where + ": dataset " + quoted(norm) + " is not numeric (it holds " + class_text(d.cls) + ")");
}

// The element count of a dataset read as a vector: rank 1, or rank 2 with a dimension of 1.
std::size_t vector_length(const OpenDataset& d, const std::string& where, const std::string& norm) {
  if (d.dims.size() == 1) return d.count();
  if (d.dims.size() == 2 && (d.dims[0] == 1 || d.dims[1] == 1)) return d.count();
  if (d.dims.size() == 2)
    fail(where + ": dataset " + quoted(norm) + " has shape " + shape_text(d.dims) + ", expected a 1-D dataset");
  fail(where + ": dataset " + quoted(norm) + " has rank " + std::to_string(d.dims.size()) + ", expected 1");
}

// Reads every element of d through the memory type (HDF5 converts from the stored type).
void read_all(const OpenDataset& d, hid_t mem_type, void* buf, const std::string& where, const std::string& norm) {
  if (d.count() == 0) return;
  check(H5Dread(d.ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), where, "cannot read dataset " + quoted(norm));
}

// Reads n strings of the stored string type `type` through `read(mem_type, buffer)`: variable-length
// strings (h5py's default) or fixed-length ones (numpy 'S', PyTables/pandas), any character set.
// Fixed-length values end at the first NUL; space-padded ones lose their trailing spaces.
std::vector<std::string> read_string_values(hid_t type, hid_t space, std::size_t n,
                                            const std::function<herr_t(hid_t, void*)>& read, const std::string& where,
                                            const std::string& what) {
  std::vector<std::string> out;
  if (n == 0) return out;
  out.reserve(n);
  const htri_t variable = H5Tis_variable_str(type);
  if (variable < 0) fail_h5(where, what);
  if (variable) {
    Handle mem = make(H5Tcopy(H5T_C_S1), H5Tclose, where, what);
    check(H5Tset_size(mem, H5T_VARIABLE), where, what);
    check(H5Tset_cset(mem, H5Tget_cset(type)), where, what);  // HDF5 does not convert between sets
    std::vector<char*> ptrs(n, nullptr);
    // HDF5 allocates each string; free them on every path, even when copying them out throws.
    struct Reclaim {
      hid_t mem, space;
      std::vector<char*>& ptrs;
      ~Reclaim() {
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mem, space, H5P_DEFAULT, ptrs.data());
#else
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
#endif
      }
    } reclaim{mem, space, ptrs};
    check(read(mem, ptrs.data()), where, what);
    for (const char* p : ptrs) out.emplace_back(p ? p : "");
  } else {
    const std::size_t size = H5Tget_size(type);
    if (size == 0) fail_h5(where, what);
    // The stored type itself as memory type: same size, padding and set, so HDF5 copies bytes.
    Handle mem = make(H5Tcopy(type), H5Tclose, where, what);
    std::vector<char> buf(n * size);
    check(read(mem, buf.data()), where, what);
    const bool space_padded = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = buf.data() + i * size;
      std::size_t len = strnlen(s, size);
      if (space_padded)
        while (len > 0 && s[len - 1] == ' ') --len;
      out.emplace_back(s, len);
    }
  }
  return out;
}

// Pointers to the strings' characters for a variable-length write (NUL bytes cannot be stored).
std::vector<const char*> c_strings(const std::vector<std::string>& values, const std::string& where,
                                   const std::string& what) {
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].find('\0') != std::string::npos)
      fail(where + ": " + what + ": string " + std::to_string(i) + " contains a NUL byte");
    ptrs.push_back(values[i].c_str());
  }
  return ptrs;
}

// ---------------------------------------------------------------------------------------------------
// Attributes

std::string attr_label(const std::string& name, const std::string& norm) {
  return "attribute '" + name + "' of " + quoted(norm);
}

Handle open_object(hid_t file, const std::string& where, const std::string& norm, const std::string& what) {
  return make(H5Oopen(file, abs_name(norm).c_str(), H5P_DEFAULT), H5Oclose, where, what);
}

// Writes a scalar attribute, replacing any attribute of that name (whatever its type).
void write_attr(hid_t file, const std::string& where, const std::string& object, const std::string& name,
                hid_t file_type, hid_t mem_type, const void* value) {
  const std::string norm = normalize(object);
  const std::string what = "cannot write " + attr_label(name, norm);
  if (name.empty()) fail(where + ": " + what + ": empty attribute name");
  if (kind_of(file, norm) == Kind::missing) ensure_group(file, where, norm);
  const Handle obj = open_object(file, where, norm, what);
  const htri_t exists = H5Aexists(obj, name.c_str());
  if (exists < 0) fail_h5(where, what);
  if (exists) check(H5Adelete(obj, name.c_str()), where, what);
  const Handle space = make(H5Screate(H5S_SCALAR), H5Sclose, where, what);
  Handle acpl = plist(H5P_ATTRIBUTE_CREATE, where);
  check(H5Pset_char_encoding(acpl, H5T_CSET_UTF8), where, what);
  const Handle attr = make(H5Acreate2(obj, name.c_str(), file_type, space, acpl, H5P_DEFAULT), H5Aclose, where, what);
  check(H5Awrite(attr, mem_type, value), where, what);
}

// An open attribute holding exactly one value.
struct OpenAttr {
  Handle obj, attr, type, space;
  H5T_class_t cls = H5T_NO_CLASS;
};

OpenAttr open_attr(hid_t file, const std::string& where, const std::string& object, const std::string& name) {
  const std::string norm = normalize(object);
  const std::string label = attr_label(name, norm);
  if (kind_of(file, norm) == Kind::missing)
    fail(where + ": " + label + " is missing (no object " + quoted(norm) + ")");
  const std::string what = "cannot read " + label;
  OpenAttr a;
  a.obj = open_object(file, where, norm, what);
  const htri_t exists = H5Aexists(a.obj, name.c_str());
  if (exists < 0) fail_h5(where, what);
  if (!exists) fail(where + ": " + label + " is missing");
  a.attr = make(H5Aopen(a.obj, name.c_str(), H5P_DEFAULT), H5Aclose, where, what);
  a.type = make(H5Aget_type(a.attr), H5Tclose, where, what);
  a.space = make(H5Aget_space(a.attr), H5Sclose, where, what);
  a.cls = H5Tget_class(a.type);
  const hssize_t n = H5Sget_simple_extent_npoints(a.space);
  if (n != 1) fail(where + ": " + label + " holds " + std::to_string(n) + " values, expected one");
  return a;
}

void read_attr_value(const OpenAttr& a, hid_t mem_type, void* out, const std::string& where, const std::string& label) {
  check(H5Aread(a.attr, mem_type, out), where, "cannot read " + label);
}

}  // namespace

// -----------------------------------------------------------------------------------------------------
// File lifetime

File File::create(const std::string& path) {
  quiet();
  if (path.empty()) fail("cannot write an HDF5 file: the path is empty");
  // A regular file or nothing; a link is written through, a device, FIFO or directory refused.
  const std::string target = output_target(path);
  const std::string prefix = "cannot write " + path + ": ";
  const std::string temp = target + ".tmp-" + std::to_string(::getpid());
  const Handle fapl = file_access_plist(path);
  const hid_t id = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (id < 0) {
    const std::string reason = hdf5_reason();
    fail(prefix + "cannot create " + temp + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
  }
  File f;
  f.id_ = id;
  f.path_ = target;
  f.temp_path_ = temp;
  return f;
}

File File::open(const std::string& path) {
  quiet();
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail("cannot open " + path + ": no such file");
  if (fs::is_directory(st)) fail("cannot open " + path + ": it is a directory");
  if (::access(path.c_str(), R_OK) != 0)
    fail("cannot open " + path + ": " + std::generic_category().message(errno));
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) fail(path + " is not an HDF5 file");
  const Handle fapl = file_access_plist(path);
  const hid_t id = is_hdf5 > 0 ? H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl) : -1;
  if (id < 0) {
    const std::string reason = hdf5_reason();
    fail("cannot open " + path + ": damaged or unreadable HDF5 file" + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
  }
  File f;
  f.id_ = id;
  f.path_ = path;
  return f;
}

File::File(File&& other) noexcept
    : id_(std::exchange(other.id_, -1)),
      path_(std::move(other.path_)),
      temp_path_(std::exchange(other.temp_path_, std::string())) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    File discard(std::move(*this));  // closes (and, uncommitted, removes) what this held
    id_ = std::exchange(other.id_, -1);
    path_ = std::move(other.path_);
    temp_path_ = std::exchange(other.temp_path_, std::string());
  }
  return *this;
}

File::~File() {
  if (id_ >= 0) H5Fclose(id_);
  if (!temp_path_.empty()) {
    std::error_code ec;
    fs::remove(temp_path_, ec);  // never committed: leave nothing behind
  }
}

void File::commit() {
  quiet();
  if (id_ < 0 || temp_path_.empty())
    fail("cannot commit " + path_ + ": " + (id_ < 0 ? "the file is closed" : "it was opened read-only"));
  // On any failure below the temporary is removed and nothing appears at path_.
  auto give_up = [&](const std::string& reason) {
    std::error_code ec;
    fs::remove(temp_path_, ec);
    temp_path_.clear();
    fail("cannot write " + path_ + ": " + reason);
  };
  const herr_t closed = H5Fclose(std::exchange(id_, -1));
  if (closed < 0) {
    const std::string reason = hdf5_reason();
    give_up("closing the file failed" + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
  }
  // Make the bytes durable before the rename publishes them, so a crash never exposes a torn file.
  const int fd = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    give_up("cannot sync " + temp_path_ + ": " + std::generic_category().message(err));
  }
  ::close(fd);
  std::error_code ec;
  fs::rename(temp_path_, path_, ec);
  if (ec) give_up("cannot rename " + temp_path_ + ": " + ec.message());
  temp_path_.clear();
}

// -----------------------------------------------------------------------------------------------------
// Writing. Each writer checks the File is open for writing, then writes with the stored (file) type
// fixed: doubles as IEEE little-endian 64-bit, indices as little-endian uint64, strings as vlen UTF-8.

namespace {

void require_writable(std::int64_t id, const std::string& temp_path, const std::string& path) {
  quiet();
  if (id < 0) fail(path + ": cannot write: the file is closed (committed or moved from)");
  if (temp_path.empty()) fail(path + ": cannot write: the file was opened read-only");
}

void require_open(std::int64_t id, const std::string& path) {
  quiet();
  if (id < 0) fail(path + ": cannot read: the file is closed (committed or moved from)");
}

}  // namespace

void File::write(const std::string& path, const arma::mat& value) {
  require_writable(id_, temp_path_, path_);
  // value (r x c, column-major) -> value.t() (c x r, column-major) == r x c in row-major order.
  // (Not for an empty matrix: Armadillo's transpose of 0 x c / r x 0 reads element (0, 0).)
  const arma::mat row_major = value.n_elem > 0 ? arma::mat(value.t()) : arma::mat();
  write_dataset(id_, path_, normalize(path), {hsize_t(value.n_rows), hsize_t(value.n_cols)}, H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE, row_major.memptr(), row_major.n_elem);
}

void File::write(const std::string& path, const arma::vec& value) {
  require_writable(id_, temp_path_, path_);
  write_dataset(id_, path_, normalize(path), {hsize_t(value.n_elem)}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                value.memptr(), value.n_elem);
}

void File::write(const std::string& path, const arma::rowvec& value) {
  require_writable(id_, temp_path_, path_);
  write_dataset(id_, path_, normalize(path), {hsize_t(value.n_elem)}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                value.memptr(), value.n_elem);
}

void File::write(const std::string& path, const arma::uvec& value) {
  require_writable(id_, temp_path_, path_);
  write_dataset(id_, path_, normalize(path), {hsize_t(value.n_elem)}, H5T_STD_U64LE, H5T_NATIVE_UINT64,
                value.memptr(), value.n_elem);
}

void File::write(const std::string& path, const arma::urowvec& value) {
  require_writable(id_, temp_path_, path_);
  write_dataset(id_, path_, normalize(path), {hsize_t(value.n_elem)}, H5T_STD_U64LE, H5T_NATIVE_UINT64,
                value.memptr(), value.n_elem);
}

void File::write(const std::string& path, const std::vector<std::string>& value) {
  require_writable(id_, temp_path_, path_);
  const std::string norm = normalize(path);
  const std::vector<const char*> ptrs = c_strings(value, path_, "cannot write dataset " + quoted(norm));
  const Handle type = vlen_utf8_type(path_);
  write_dataset(id_, path_, norm, {hsize_t(value.size())}, type, type, ptrs.data(), ptrs.size());
}

void File::create_group(const std::string& path) {
  require_writable(id_, temp_path_, path_);
  ensure_group(id_, path_, normalize(path));
}

void File::set_attr(const std::string& object, const std::string& name, const std::string& value) {
  require_writable(id_, temp_path_, path_);
  const std::string label = attr_label(name, normalize(object));
  const std::vector<std::string> one{value};  // must outlive ptr: ptr points into these strings
  const std::vector<const char*> ptr = c_strings(one, path_, "cannot write " + label);
  const Handle type = vlen_utf8_type(path_);
  write_attr(id_, path_, object, name, type, type, ptr.data());
}

void File::set_attr(const std::string& object, const std::string& name, const char* value) {
  set_attr(object, name, std::string(value ? value : ""));
}

void File::set_attr(const std::string& object, const std::string& name, double value) {
  require_writable(id_, temp_path_, path_);
  write_attr(id_, path_, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void File::set_attr(const std::string& object, const std::string& name, std::int64_t value) {
  require_writable(id_, temp_path_, path_);
  write_attr(id_, path_, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

// -----------------------------------------------------------------------------------------------------
// Queries

bool File::exists(const std::string& path) const {
  require_open(id_, path_);
  return kind_of(id_, normalize(path)) != Kind::missing;
}

bool File::is_group(const std::string& path) const {
  require_open(id_, path_);
  return kind_of(id_, normalize(path)) == Kind::group;
}

bool File::is_dataset(const std::string& path) const {
  require_open(id_, path_);
  return kind_of(id_, normalize(path)) == Kind::dataset;
}

bool File::has_attr(const std::string& object, const std::string& name) const {
  require_open(id_, path_);
  const std::string norm = normalize(object);
  if (kind_of(id_, norm) == Kind::missing) return false;
  const Handle obj = open_object(id_, path_, norm, "cannot read the attributes of " + quoted(norm));
  const htri_t exists = H5Aexists(obj, name.c_str());
  if (exists < 0) fail_h5(path_, "cannot read the attributes of " + quoted(norm));
  return exists > 0;
}

namespace {
herr_t add_attribute_name(hid_t, const char* name, const H5A_info_t*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> File::attributes(const std::string& object) const {
  require_open(id_, path_);
  const std::string norm = normalize(object);
  if (kind_of(id_, norm) == Kind::missing) fail(path_ + ": " + quoted(norm) + " is missing");
  const std::string what = "cannot list the attributes of " + quoted(norm);
  const Handle obj = open_object(id_, path_, norm, what);
  std::vector<std::string> names;
  hsize_t at = 0;
  check(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &at, add_attribute_name, &names), path_, what);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> File::children(const std::string& group) const {
  require_open(id_, path_);
  const std::string norm = normalize(group);
  switch (kind_of(id_, norm)) {
    case Kind::group:
      break;
    case Kind::missing:
      fail(path_ + ": group " + quoted(norm) + " is missing");
    default:
      fail(path_ + ": " + quoted(norm) + " is not a group");
  }
  const std::string what = "cannot list group " + quoted(norm);
  const Handle g = make(H5Gopen2(id_, abs_name(norm).c_str(), H5P_DEFAULT), H5Gclose, path_, what);
  H5G_info_t info;
  check(H5Gget_info(g, &info), path_, what);
  std::vector<std::string> names;
  names.reserve(info.nlinks);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail_h5(path_, what);
    std::vector<char> buf(std::size_t(len) + 1, '\0');
    if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf.data(), buf.size(), H5P_DEFAULT) < 0)
      fail_h5(path_, what);
    names.emplace_back(buf.data(), std::size_t(len));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::uint64_t> File::shape(const std::string& dataset) const {
  require_open(id_, path_);
  const OpenDataset d = open_dataset(id_, path_, normalize(dataset));
  return {d.dims.begin(), d.dims.end()};
}

bool File::is_string_dataset(const std::string& path) const {
  require_open(id_, path_);
  const std::string norm = normalize(path);
  const Kind kind = kind_of(id_, norm);
  if (kind == Kind::missing) fail(path_ + ": dataset " + quoted(norm) + " is missing");
  if (kind != Kind::dataset) return false;
  return open_dataset(id_, path_, norm).cls == H5T_STRING;
}

// -----------------------------------------------------------------------------------------------------
// Reading datasets

arma::mat File::read_matrix(const std::string& path) const {
  require_open(id_, path_);
  const std::string norm = normalize(path);
  const OpenDataset d = open_dataset(id_, path_, norm);
  require_numeric(d, path_, norm);
  require_fits(d, 2 * sizeof(double), path_, norm);  // the read and its transpose
  if (d.dims.size() == 1) {  // a 1-D dataset reads as a column n x 1
    arma::mat out(d.dims[0], 1);
    read_all(d, H5T_NATIVE_DOUBLE, out.memptr(), path_, norm);
    return out;
  }
  if (d.dims.size() != 2)
    fail(path_ + ": dataset " + quoted(norm) + " has rank " + std::to_string(d.dims.size()) + ", expected 1 or 2");
  // Stored (r, c) row-major == c x r column-major; transpose back to r x c.
  if (d.count() == 0) return arma::mat(d.dims[0], d.dims[1]);  // no transpose of empties (see write)
  arma::mat row_major(d.dims[1], d.dims[0]);
  read_all(d, H5T_NATIVE_DOUBLE, row_major.memptr(), path_, norm);
  return row_major.t();
}

arma::vec File::read_vector(const std::string& path) const {
  require_open(id_, path_);
  const std::string norm = normalize(path);
  const OpenDataset d = open_dataset(id_, path_, norm);
  require_numeric(d, path_, norm);
  require_fits(d, sizeof(double), path_, norm);
  arma::vec out(vector_length(d, path_, norm));
  read_all(d, H5T_NATIVE_DOUBLE, out.memptr(), path_, norm);
  return out;
}

arma::uvec File::read_uvec(const std::string& path) const {
  require_open(id_, path_);
  const std::string norm = normalize(path);
  const OpenDataset d = open_dataset(id_, path_, norm);
  require_numeric(d, path_, norm);
  require_fits(d, 2 * sizeof(std::uint64_t), path_, norm);  // the result and a signed or double copy
  const std::size_t n = vector_length(d, path_, norm);
  arma::uvec out(n);
  auto bad = [&](std::size_t i, const std::string& value) {
    fail(path_ + ": dataset " + quoted(norm) + " has value " + value + " at index " + std::to_string(i) +
         ", expected non-negative integers");
  };
  // Read through a type that holds every stored value exactly, then check: HDF5's own conversion to
  // uint64 would silently clamp negatives to 0 and truncate fractions.
  if (d.cls == H5T_INTEGER && H5Tget_sign(d.type) == H5T_SGN_NONE) {
    read_all(d, H5T_NATIVE_UINT64, out.memptr(), path_, norm);
  } else if (d.cls == H5T_INTEGER) {
    std::vector<std::int64_t> v(n);
    read_all(d, H5T_NATIVE_INT64, v.data(), path_, norm);
    for (std::size_t i = 0; i < n; ++i) {
      if (v[i] < 0) bad(i, std::to_string(v[i]));
      out[i] = arma::uword(v[i]);
    }
  } else {
    std::vector<double> v(n);
    read_all(d, H5T_NATIVE_DOUBLE, v.data(), path_, norm);
    for (std::size_t i = 0; i < n; ++i) {
      // 2^64 is exactly representable; every double below it that is whole fits in uint64.
      if (!(v[i] >= 0 && v[i] < 18446744073709551616.0 && std::floor(v[i]) == v[i]))
        bad(i, number_text(v[i]));
      out[i] = arma::uword(v[i]);
    }
  }
  return out;
}

std::vector<std::string> File::read_strings(const std::string& path) const {
  require_open(id_, path_);
  const std::string norm = normalize(path);
  const OpenDataset d = open_dataset(id_, path_, norm);
  if (d.cls != H5T_STRING) fail(path_ + ": dataset " + quoted(norm) + " is not a string dataset");
  if (d.dims.size() > 1)
    fail(path_ + ": dataset " + quoted(norm) + " has rank " + std::to_string(d.dims.size()) + ", expected 1");
  // Per value: a std::string and HDF5's pointer (variable length) or the fixed-length bytes.
  require_fits(d, double(sizeof(std::string) + sizeof(char*) + H5Tget_size(d.type)), path_, norm);
  const hid_t ds = d.ds;
  return read_string_values(
      d.type, d.space, d.count(),
      [ds](hid_t mem, void* buf) { return H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }, path_,
      "cannot read dataset " + quoted(norm));
}

// -----------------------------------------------------------------------------------------------------
// Reading attributes

std::string File::attr_string(const std::string& object, const std::string& name) const {
  require_open(id_, path_);
  const OpenAttr a = open_attr(id_, path_, object, name);
  const std::string label = attr_label(name, normalize(object));
  if (a.cls != H5T_STRING) fail(path_ + ": " + label + " is not a string");
  const hid_t attr = a.attr;
  return read_string_values(
      a.type, a.space, 1, [attr](hid_t mem, void* buf) { return H5Aread(attr, mem, buf); }, path_,
      "cannot read " + label)[0];
}

double File::attr_double(const std::string& object, const std::string& name) const {
  require_open(id_, path_);
  const OpenAttr a = open_attr(id_, path_, object, name);
  const std::string label = attr_label(name, normalize(object));
  if (a.cls != H5T_INTEGER && a.cls != H5T_FLOAT) fail(path_ + ": " + label + " is not a number");
  double value = 0;
  read_attr_value(a, H5T_NATIVE_DOUBLE, &value, path_, label);
  return value;
}

std::int64_t File::attr_int(const std::string& object, const std::string& name) const {
  require_open(id_, path_);
  const OpenAttr a = open_attr(id_, path_, object, name);
  const std::string label = attr_label(name, normalize(object));
  if (a.cls == H5T_INTEGER && H5Tget_sign(a.type) == H5T_SGN_NONE) {
    std::uint64_t value = 0;
    read_attr_value(a, H5T_NATIVE_UINT64, &value, path_, label);
    if (value > std::uint64_t(INT64_MAX)) fail(path_ + ": " + label + " is too large for a 64-bit signed integer");
    return std::int64_t(value);
  }
  if (a.cls == H5T_INTEGER) {
    std::int64_t value = 0;
    read_attr_value(a, H5T_NATIVE_INT64, &value, path_, label);
    return value;
  }
  if (a.cls == H5T_FLOAT) {  // accepted when it holds a whole number (e.g. written by a Python float)
    double value = 0;
    read_attr_value(a, H5T_NATIVE_DOUBLE, &value, path_, label);
    if (!(std::floor(value) == value && value >= -9223372036854775808.0 && value < 9223372036854775808.0))
      fail(path_ + ": " + label + " is not an integer");
    return std::int64_t(value);
  }
  fail(path_ + ": " + label + " is not an integer");
}

namespace {

std::string numpy_name(hid_t type, H5T_class_t cls) {
  const std::size_t bits = 8 * H5Tget_size(type);
  switch (cls) {
    case H5T_STRING: return "string";
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_ENUM: return "enum";
    case H5T_COMPOUND: return "compound";
    default: return "other";
  }
}

}  // namespace

std::string File::attr_type(const std::string& object, const std::string& name) const {
  require_open(id_, path_);
  const OpenAttr a = open_attr(id_, path_, object, name);
  return numpy_name(a.type, a.cls);
}

std::string File::dataset_type(const std::string& dataset) const {
  require_open(id_, path_);
  const OpenDataset d = open_dataset(id_, path_, normalize(dataset));
  return numpy_name(d.type, d.cls);
}

}  // namespace moe::h5
