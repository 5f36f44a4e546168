#pragma once
// A small RAII layer over the HDF5 C API: the only place the library touches HDF5.
//
// Shapes: an arma::mat of r x c is stored as a 2-D dataset of shape (r, c) as h5py/numpy see it
// (so gate probabilities K x N read back in Python as an array of shape (K, N)); row and column
// vectors as 1-D datasets; strings as variable-length UTF-8.
//
// Writing is atomic (docs/architecture.md#principles): File::create writes to "<path>.tmp-<pid>" and commit()
// renames it onto <path>; a File destroyed without commit() removes its temporary, so a failure never
// leaves a half-written result.
#include <armadillo>
#include <cstdint>
#include <string>
#include <vector>

namespace moe::h5 {

class File {
 public:
  // Fails with moe::Error ("cannot write <path>: ...") when the directory does not exist or is not
  // writable. Nothing appears at <path> until commit().
  static File create(const std::string& path);
  // Read-only. Fails with moe::Error ("cannot open <path>: ..." / "<path> is not an HDF5 file").
  static File open(const std::string& path);

  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  void commit();  // flush, close, rename the temporary onto the final path; the File is closed after
  const std::string& path() const { return path_; }

  // Object paths are slash-separated ("eval/test/gate"); parent groups are created on demand.
  // Writing an existing dataset replaces it.
  void write(const std::string& path, const arma::mat& value);       // 2-D (rows, cols)
  void write(const std::string& path, const arma::vec& value);       // 1-D
  void write(const std::string& path, const arma::rowvec& value);    // 1-D
  void write(const std::string& path, const arma::uvec& value);      // 1-D uint64
  void write(const std::string& path, const arma::urowvec& value);   // 1-D uint64
  void write(const std::string& path, const std::vector<std::string>& value);  // 1-D strings
  void create_group(const std::string& path);

  // Attributes on a group or dataset ("/" for the root). Replaces an existing attribute. A missing
  // object is created as a group (like a dataset's parents).
  void set_attr(const std::string& object, const std::string& name, const std::string& value);
  void set_attr(const std::string& object, const std::string& name, const char* value);
  void set_attr(const std::string& object, const std::string& name, double value);
  void set_attr(const std::string& object, const std::string& name, std::int64_t value);

  bool exists(const std::string& path) const;           // group or dataset
  bool is_group(const std::string& path) const;         // false when missing or a dataset ("" and "/": root)
  bool is_dataset(const std::string& path) const;       // false when missing or a group
  bool has_attr(const std::string& object, const std::string& name) const;
  // Names of the attributes of a group or dataset, sorted.
  std::vector<std::string> attributes(const std::string& object) const;
  std::vector<std::string> children(const std::string& group) const;  // sorted names ("" or "/": root)
  std::vector<std::uint64_t> shape(const std::string& dataset) const;  // {} for a scalar; throws for a group

  // Readers fail with moe::Error naming file and object: missing dataset, wrong rank, wrong type.
  arma::mat read_matrix(const std::string& path) const;   // 2-D numeric (any int/float type) -> r x c;
                                                          // a 1-D dataset reads as a column n x 1
  arma::vec read_vector(const std::string& path) const;   // 1-D numeric (also 2-D of shape (n, 1) or (1, n))
  arma::uvec read_uvec(const std::string& path) const;    // 1-D integer; also floats holding whole numbers;
                                                          // rejects negative, fractional, NaN values
  std::vector<std::string> read_strings(const std::string& path) const;  // 1-D string (var or fixed)
  bool is_string_dataset(const std::string& path) const;  // false for a group; throws when missing
  std::string attr_string(const std::string& object, const std::string& name) const;
  double attr_double(const std::string& object, const std::string& name) const;
  std::int64_t attr_int(const std::string& object, const std::string& name) const;
  // The stored type as numpy names it: "string", "float64", "float32", "int64", "uint64", "int32", "uint8",
  // ... ("enum", "compound" or "other" for the rest). Throws when the attribute or dataset is missing.
  std::string attr_type(const std::string& object, const std::string& name) const;
  std::string dataset_type(const std::string& dataset) const;

 private:
  File() = default;
  std::int64_t id_ = -1;        // hid_t
  std::string path_;            // final path
  std::string temp_path_;       // non-empty while writing
};

}  // namespace moe::h5
