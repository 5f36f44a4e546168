#pragma once
// IDX files, the MNIST format (LeCun et al.; Fashion-MNIST uses it too): a 4-byte magic 00 00 TT D
// (TT the element type, D the number of dimensions), D big-endian uint32 sizes, then the elements,
// big-endian, the last dimension varying fastest. Gzip-compressed files (.gz, as Debian's
// dataset-fashion-mnist ships them) are read transparently: compression is detected from the content.
#include <armadillo>
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

// Element types of the IDX format (the third magic byte).
enum class IdxType : std::uint8_t {
  u8 = 0x08,   // unsigned byte (MNIST pixels and labels)
  i8 = 0x09,   // signed byte
  i16 = 0x0B,  // short, big-endian
  i32 = 0x0C,  // int, big-endian
  f32 = 0x0D,  // float, big-endian
  f64 = 0x0E,  // double, big-endian
};

// "unsigned byte (0x08)" etc.; "unknown (0xNN)" for anything else.
std::string idx_type_name(std::uint8_t code);

// A whole IDX file: its element type, its sizes (outermost first), and every element as a double in
// file order (row-major: the last dimension varies fastest).
struct IdxArray {
  IdxType type = IdxType::u8;
  std::vector<std::uint32_t> dims;
  std::vector<double> values;
};

// Reads a plain or gzip-compressed IDX file. One-line moe::Error naming the file for: missing or
// unreadable file, corrupt gzip data, bad magic (first two bytes not zero, unknown type code, zero
// dimensions), data shorter than the header says ("truncated"), or bytes left after the data.
IdxArray read_idx(const std::string& path);

// Images: an IDX file of unsigned bytes with 3 dimensions (N x rows x cols). Returns a
// (rows*cols) x N matrix, column n = image n with pixel (r, c) at row r*cols + c (the file's order),
// values scaled by 1/255 to [0, 1]. `rows`/`cols`, when given, receive the image size.
arma::mat read_idx_images(const std::string& path, std::size_t* rows = nullptr, std::size_t* cols = nullptr);

// Labels: an IDX file with 1 dimension (N) of unsigned bytes (or another integer type, values >= 0).
arma::urowvec read_idx_labels(const std::string& path);

// An image set as the models take it: images (pixels x N), labels (1 x N), image size.
struct ImageSet {
  arma::mat images;     // (rows*cols) x N, in [0, 1]
  arma::urowvec labels; // 1 x N
  std::size_t rows = 0, cols = 0;
};

// Both files of a set; a moe::Error when they disagree on N ("dimension mismatch").
ImageSet read_idx_set(const std::string& images_path, const std::string& labels_path);

// Writes an unsigned-byte IDX file (uncompressed): dims outermost first, bytes in row-major order;
// the byte count must equal the product of dims. Written to a temporary name and renamed.
void write_idx_u8(const std::string& path, const std::vector<std::uint32_t>& dims,
                  const std::vector<std::uint8_t>& bytes);

// Writes images (pixels x N, values in [0, 1], rows*cols == pixels) as an N x rows x cols IDX file of
// unsigned bytes, value round(255 v) (so read_idx_images gives back what was written, to 1/510).
void write_idx_images(const std::string& path, const arma::mat& images, std::size_t rows, std::size_t cols);

// Writes labels (each <= 255) as a 1-dimensional unsigned-byte IDX file.
void write_idx_labels(const std::string& path, const arma::urowvec& labels);

}  // namespace moe
