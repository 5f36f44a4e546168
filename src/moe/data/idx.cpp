#include "moe/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "moe/core/atomic_file.hpp"
#include "moe/core/error.hpp"

namespace moe {

namespace {

std::size_t type_size(std::uint8_t code) {
  switch (code) {
    case 0x08:
    case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C:
    case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

std::string hex_byte(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", v & 0xFFu);
  return buf;
}

std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string s;
  for (auto d : dims) {
    if (!s.empty()) s += 'x';
    s += std::to_string(d);
  }
  return s;
}

// The whole file, decompressed when it is gzip (zlib reads plain files unchanged).
std::vector<std::uint8_t> slurp_maybe_gzip(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("cannot open " + path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) fail("cannot open " + path + ": is a directory");
  gzFile f = ::gzopen(path.c_str(), "rb");
  if (f == nullptr) fail("cannot open " + path + ": " + std::strerror(errno));
  // Read straight into `bytes`, doubling it as it fills (from 16 KiB: labels files are tiny).
  std::vector<std::uint8_t> bytes(std::size_t{1} << 14);
  std::size_t used = 0;
  for (;;) {
    if (used == bytes.size()) bytes.resize(2 * bytes.size());
    const std::size_t room = std::min<std::size_t>(bytes.size() - used, std::size_t{1} << 30);
    const int got = ::gzread(f, bytes.data() + used, static_cast<unsigned>(room));
    if (got <= 0) break;
    used += static_cast<std::size_t>(got);
  }
  bytes.resize(used);
  int err = Z_OK;
  const char* msg = ::gzerror(f, &err);
  std::string why = err == Z_OK ? "" : (msg ? msg : "unknown zlib error");
  ::gzclose(f);
  if (err == Z_BUF_ERROR) fail(path + ": truncated gzip data (" + why + ")");
  if (err != Z_OK) fail(path + ": corrupt gzip data (" + why + ")");
  return bytes;
}

// Header plus the payload bytes (still big-endian), checked against each other.
struct RawIdx {
  std::uint8_t type = 0x08;
  std::vector<std::uint32_t> dims;
  std::size_t count = 0;      // elements
  std::size_t offset = 0;     // where the elements start in bytes
  std::vector<std::uint8_t> bytes;
};

RawIdx read_raw(const std::string& path) {
  RawIdx r;
  r.bytes = slurp_maybe_gzip(path);
  const auto& b = r.bytes;
  if (b.size() < 4)
    fail(path + ": truncated IDX file: " + std::to_string(b.size()) + " bytes, the magic number alone has 4");
  const std::string magic = hex_byte(b[0]) + " " + hex_byte(b[1]) + " " + hex_byte(b[2]) + " " + hex_byte(b[3]);
  if (b[0] != 0 || b[1] != 0 || type_size(b[2]) == 0 || b[3] == 0)
    fail(path + ": bad IDX magic " + magic +
         " (expected 00 00, a type code 08/09/0b/0c/0d/0e and a dimension count >= 1; not an IDX file?)");
  r.type = b[2];
  const std::size_t ndims = b[3];
  r.offset = 4 + 4 * ndims;
  if (b.size() < r.offset)
    fail(path + ": truncated IDX header: " + std::to_string(ndims) + " dimensions need " +
         std::to_string(r.offset) + " bytes, the file has " + std::to_string(b.size()));
  const std::size_t avail = b.size() - r.offset, esize = type_size(r.type);
  std::size_t count = 1;
  bool too_big = false;
  for (std::size_t k = 0; k < ndims; ++k) {
    const std::uint8_t* p = b.data() + 4 + 4 * k;
    const std::uint32_t d = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                            (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
    r.dims.push_back(d);
    if (d != 0 && count > avail / esize / d) too_big = true;  // more than the file could hold
    if (!too_big) count *= d;
  }
  if (too_big || count * esize > avail)
    fail(path + ": truncated IDX data: the header says " + dims_text(r.dims) + " elements of " +
         idx_type_name(r.type) + ", the file has " + std::to_string(avail) + " data bytes");
  if (count * esize < avail)
    fail(path + ": " + std::to_string(avail - count * esize) + " bytes after the " + dims_text(r.dims) +
         " elements the IDX header describes (corrupt or wrong header)");
  r.count = count;
  return r;
}

template <class U>
U big_endian(const std::uint8_t* p) {
  U v = 0;
  for (std::size_t k = 0; k < sizeof(U); ++k) v = static_cast<U>((v << 8) | p[k]);
  return v;
}

double element(const RawIdx& r, std::size_t i) {
  const std::uint8_t* p = r.bytes.data() + r.offset + i * type_size(r.type);
  switch (r.type) {
    case 0x08: return p[0];
    case 0x09: return static_cast<std::int8_t>(p[0]);
    case 0x0B: return static_cast<std::int16_t>(big_endian<std::uint16_t>(p));
    case 0x0C: return static_cast<std::int32_t>(big_endian<std::uint32_t>(p));
    case 0x0D: return std::bit_cast<float>(big_endian<std::uint32_t>(p));
    default: return std::bit_cast<double>(big_endian<std::uint64_t>(p));
  }
}

void write_idx_file(const std::string& path, const std::string& header, const std::uint8_t* data, std::size_t n) {
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  });
}

}  // namespace

std::string idx_type_name(std::uint8_t code) {
  const std::string hex = "(0x" + hex_byte(code) + ")";
  switch (code) {
    case 0x08: return "unsigned byte " + hex;
    case 0x09: return "signed byte " + hex;
    case 0x0B: return "short " + hex;
    case 0x0C: return "int " + hex;
    case 0x0D: return "float " + hex;
    case 0x0E: return "double " + hex;
    default: return "unknown " + hex;
  }
}

IdxArray read_idx(const std::string& path) {
  RawIdx r = read_raw(path);
  IdxArray a;
  a.type = static_cast<IdxType>(r.type);
  a.dims = r.dims;
  a.values.resize(r.count);
  for (std::size_t i = 0; i < r.count; ++i) a.values[i] = element(r, i);
  return a;
}

arma::mat read_idx_images(const std::string& path, std::size_t* rows, std::size_t* cols) {
  RawIdx r = read_raw(path);
  if (r.type != 0x08)
    fail(path + ": images must be unsigned bytes (0x08), the file holds " + idx_type_name(r.type));
  if (r.dims.size() != 3)
    fail(path + ": images need 3 dimensions (N x rows x cols), the file has " + std::to_string(r.dims.size()) +
         " (" + dims_text(r.dims) + ")");
  const std::size_t n = r.dims[0], pixels = std::size_t{r.dims[1]} * r.dims[2];
  arma::mat images(pixels, n);
  const std::uint8_t* p = r.bytes.data() + r.offset;
  double* out = images.memptr();  // column-major: image n's pixels are contiguous, as in the file
  for (std::size_t i = 0; i < n * pixels; ++i) out[i] = p[i] / 255.0;
  if (rows) *rows = r.dims[1];
  if (cols) *cols = r.dims[2];
  return images;
}

arma::urowvec read_idx_labels(const std::string& path) {
  RawIdx r = read_raw(path);
  if (r.type != 0x08 && r.type != 0x09 && r.type != 0x0B && r.type != 0x0C)
    fail(path + ": labels must be integers (type 0x08, 0x09, 0x0b or 0x0c), the file holds " +
         idx_type_name(r.type));
  if (r.dims.size() != 1)
    fail(path + ": labels need 1 dimension (N), the file has " + std::to_string(r.dims.size()) + " (" +
         dims_text(r.dims) + ")");
  arma::urowvec labels(r.count);
  for (std::size_t i = 0; i < r.count; ++i) {
    const double v = element(r, i);
    if (v < 0) fail(path + ": label " + std::to_string(i) + " is negative (" + std::to_string(v) + ")");
    labels[i] = static_cast<arma::uword>(v);
  }
  return labels;
}

ImageSet read_idx_set(const std::string& images_path, const std::string& labels_path) {
  ImageSet s;
  s.images = read_idx_images(images_path, &s.rows, &s.cols);
  s.labels = read_idx_labels(labels_path);
  if (s.images.n_cols != s.labels.n_elem)
    fail("dimension mismatch: " + images_path + " has " + std::to_string(s.images.n_cols) + " images but " +
         labels_path + " has " + std::to_string(s.labels.n_elem) + " labels");
  return s;
}

void write_idx_u8(const std::string& path, const std::vector<std::uint32_t>& dims,
                  const std::vector<std::uint8_t>& bytes) {
  require(!dims.empty() && dims.size() <= 255, "write_idx_u8: " + path + ": need 1 to 255 dimensions");
  std::size_t count = 1;
  for (auto d : dims) count *= d;
  require(count == bytes.size(), "write_idx_u8: " + path + ": dimensions " + dims_text(dims) + " need " +
                                     std::to_string(count) + " bytes, got " + std::to_string(bytes.size()));
  std::string header = {'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<char>((d >> shift) & 0xFF));
  write_idx_file(path, header, bytes.data(), bytes.size());
}

void write_idx_images(const std::string& path, const arma::mat& images, std::size_t rows, std::size_t cols) {
  require(rows * cols == images.n_rows, "write_idx_images: " + path + ": " + std::to_string(rows) + "x" +
                                            std::to_string(cols) + " images need " +
                                            std::to_string(rows * cols) + " rows, the matrix has " +
                                            std::to_string(images.n_rows));
  std::vector<std::uint8_t> bytes(images.n_elem);
  const double* v = images.memptr();
  for (std::size_t i = 0; i < images.n_elem; ++i) {
    require(v[i] >= 0.0 && v[i] <= 1.0, "write_idx_images: " + path + ": pixel values must lie in [0, 1]");
    bytes[i] = static_cast<std::uint8_t>(std::lround(255.0 * v[i]));
  }
  write_idx_u8(path, {static_cast<std::uint32_t>(images.n_cols), static_cast<std::uint32_t>(rows),
                      static_cast<std::uint32_t>(cols)},
               bytes);
}

void write_idx_labels(const std::string& path, const arma::urowvec& labels) {
  std::vector<std::uint8_t> bytes(labels.n_elem);
  for (std::size_t i = 0; i < labels.n_elem; ++i) {
    require(labels[i] <= 255, "write_idx_labels: " + path + ": label " + std::to_string(labels[i]) + " > 255");
    bytes[i] = static_cast<std::uint8_t>(labels[i]);
  }
  write_idx_u8(path, {static_cast<std::uint32_t>(labels.n_elem)}, bytes);
}

}  // namespace moe
