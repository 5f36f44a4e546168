#include "moe/io/checkpoint.hpp"

#include <filesystem>
#include <sstream>

#include "moe/core/error.hpp"
#include "moe/h5/hdf5.hpp"

namespace moe {

namespace {

const std::string root = "checkpoint/";

class WriteVisitor final : public StateVisitor {
 public:
  explicit WriteVisitor(h5::File& file) : file_(file) {}
  bool loading() const override { return false; }
  void matrix(const std::string& name, arma::mat& value) override { file_.write(root + name, value); }
  void reals(const std::string& name, std::vector<double>& value) override {
    file_.write(root + name, arma::vec(value));
  }
  void count(const std::string& name, std::uint64_t& value) override {
    file_.write(root + name, arma::uvec{arma::uword(value)});
  }
  void real(const std::string& name, double& value) override { file_.write(root + name, arma::vec{value}); }
  void text(const std::string& name, std::string& value) override {
    file_.write(root + name, std::vector<std::string>{value});
  }

 private:
  h5::File& file_;
};

class ReadVisitor final : public StateVisitor {
 public:
  explicit ReadVisitor(const h5::File& file) : file_(file) {}
  bool loading() const override { return true; }
  void matrix(const std::string& name, arma::mat& value) override {
    arma::mat saved = file_.read_matrix(present(name));
    require(value.is_empty() || arma::size(saved) == arma::size(value),
            file_.path() + ": checkpoint entry '" + name + "' is " + shape(saved) + ", this run has " + shape(value) +
                " (a checkpoint of another model?)");
    value = std::move(saved);
  }
  void reals(const std::string& name, std::vector<double>& value) override {
    value = arma::conv_to<std::vector<double>>::from(file_.read_vector(present(name)));
  }
  void count(const std::string& name, std::uint64_t& value) override {
    const arma::uvec v = file_.read_uvec(present(name));
    require(v.n_elem == 1, file_.path() + ": checkpoint entry '" + name + "' is not a single count");
    value = v[0];
  }
  void real(const std::string& name, double& value) override {
    const arma::vec v = file_.read_vector(present(name));
    require(v.n_elem == 1, file_.path() + ": checkpoint entry '" + name + "' is not a single number");
    value = v[0];
  }
  void text(const std::string& name, std::string& value) override {
    const std::vector<std::string> v = file_.read_strings(present(name));
    require(v.size() == 1, file_.path() + ": checkpoint entry '" + name + "' is not a single text");
    value = v[0];
  }

 private:
  std::string present(const std::string& name) const {
    require(file_.is_dataset(root + name),
            file_.path() + ": checkpoint entry '" + name + "' is missing (written by another version or model?)");
    return root + name;
  }
  static std::string shape(const arma::mat& m) { return std::to_string(m.n_rows) + "x" + std::to_string(m.n_cols); }
  const h5::File& file_;
};

// The first line where two settings texts differ, for the error message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb;
  while (true) {
    const bool more_a = bool(std::getline(ia, la)), more_b = bool(std::getline(ib, lb));
    if (!more_a && !more_b) return "";
    if (!more_a) la = "(nothing)";
    if (!more_b) lb = "(nothing)";
    if (la != lb) return "'" + la + "' there, '" + lb + "' here";
  }
}

}  // namespace

void FileCheckpointer::save(const std::function<void(StateVisitor&)>& visit) {
  h5::File file = h5::File::create(path_);
  WriteVisitor writer(file);
  std::string identity = identity_;
  writer.text("run/identity", identity);
  visit(writer);
  file.commit();
  ++saves_;
}

bool FileCheckpointer::restore(const std::function<void(StateVisitor&)>& visit) {
  if (!std::filesystem::exists(path_)) return false;
  const h5::File file = h5::File::open(path_);
  require(file.is_group("checkpoint"), path_ + " is not a moekit checkpoint (no /checkpoint group)");
  ReadVisitor reader(file);
  std::string identity;
  reader.text("run/identity", identity);
  require(identity == identity_, "checkpoint " + path_ + " belongs to a run with other settings (" +
                                     first_difference(identity, identity_) + "); remove it or use the same flags");
  visit(reader);
  return true;
}

}  // namespace moe
