// Fuzz target: the IDX reader (src/moe/data/idx.cpp), plain and gzip-compressed. The input is the file's
// bytes, read as written (so gzip input, valid or corrupt, goes in as it is). When the input is not
// itself gzip, it is also compressed here with zlib and read again, which must give exactly what the
// plain file gave (the same array or the same refusal), and the compressed bytes cut short must be
// refused: so the fuzzer reaches the gzip path with every IDX layout it finds, CRCs and all.
#include <zlib.h>

#include <cmath>
#include <optional>

#include "moe/data/idx.hpp"
#include "targets/fuzz_util.hpp"

namespace moe::fuzz {

namespace {

// Every reader on one file; the IdxArray when read_idx accepted it.
std::optional<IdxArray> read_all_ways(const std::string& path) {
  std::optional<IdxArray> array;
  refuses([&] { array = read_idx(path); });
  if (array) {
    std::size_t count = 1;
    for (auto d : array->dims) count *= d;
    oracle(!array->dims.empty() && count == array->values.size(), "read_idx: values do not match the dimensions");
  }
  refuses([&] {
    std::size_t rows = 0, cols = 0;
    const arma::mat images = read_idx_images(path, &rows, &cols);
    oracle(images.n_rows == rows * cols, "read_idx_images: rows x cols is not the pixel count");
    oracle(images.n_elem == 0 || (images.min() >= 0.0 && images.max() <= 1.0), "read_idx_images: pixels outside [0, 1]");
  });
  refuses([&] { read_idx_labels(path); });
  refuses([&] { read_idx_set(path, path); });
  return array;
}

std::string gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("fuzz harness: deflateInit2 failed");
  std::string out(deflateBound(&z, uLong(size)) + 32, '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = uInt(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("fuzz harness: deflate failed");
  return out;
}

bool same(const std::optional<IdxArray>& a, const std::optional<IdxArray>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if (a->type != b->type || a->dims != b->dims || a->values.size() != b->values.size()) return false;
  for (std::size_t i = 0; i < a->values.size(); ++i) {
    const double x = a->values[i], y = b->values[i];
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
  }
  return true;
}

}  // namespace

int fuzz_idx(const std::uint8_t* data, std::size_t size) {
  ScratchFile file("input.idx");
  file.write(data, size);
  const std::optional<IdxArray> plain = read_all_ways(file.path());

  const bool is_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (is_gzip || size > (1u << 16)) return 0;
  const std::string z = gzip(data, size);
  ScratchFile zfile("input.idx.gz");
  zfile.write(z);
  oracle(same(plain, read_all_ways(zfile.path())), "the gzipped file reads differently from the plain one");
  // Cut inside the deflate stream or its 8-byte trailer (CRC, length): must be refused.
  const std::size_t cut = size == 0 ? z.size() / 2 : z.size() - 1 - data[0] % std::min<std::size_t>(z.size() - 1, 12);
  zfile.write(z.data(), cut);
  oracle(refuses([&] { read_idx(zfile.path()); }), "a truncated gzip file was accepted");
  return 0;
}

}  // namespace moe::fuzz
