// moe::h5::File: round trips, layout as h5py sees it, atomic writes, and one-line errors.
//
// Some fixtures (fixed-length strings, int/float datasets of other types, rank-3 data) are written with
// the raw HDF5 C API, as h5py/pandas would, after File::create has committed the file.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/h5/hdf5.hpp"

namespace fs = std::filesystem;
using moe::h5::File;

namespace {

// A fresh directory under the system temp dir, removed with everything in it when the object dies.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("moekit-test-hdf5-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::size_t entries() const { return std::size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator())); }
};

// The message of the moe::Error that f throws ("" when none; other exceptions propagate and fail).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const moe::Error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

// Raw HDF5 writers for fixtures (the kind of files Python tools write). Not RAII: test code only.
void raw_write(const std::string& file, const std::string& name, hid_t file_type, hid_t mem_type,
               const std::vector<hsize_t>& dims, const void* data) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  hid_t ds = H5Dcreate2(f, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  CHECK(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
  H5Dclose(ds);
  H5Sclose(space);
  H5Fclose(f);
}

// A fixed-length string dataset of `size` bytes per element with the given padding and character set.
void raw_write_fixed_strings(const std::string& file, const std::string& name, std::size_t size, H5T_str_t pad,
                             H5T_cset_t cset, const std::vector<std::string>& values) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, size);
  H5Tset_strpad(type, pad);
  H5Tset_cset(type, cset);
  std::vector<char> buf(size * values.size(), pad == H5T_STR_SPACEPAD ? ' ' : '\0');
  for (std::size_t i = 0; i < values.size(); ++i) std::memcpy(buf.data() + i * size, values[i].data(), values[i].size());
  raw_write(file, name, type, type, {hsize_t(values.size())}, buf.data());
  H5Tclose(type);
}

// The doubles of a dataset in stored (row-major) order, read without the wrapper.
std::vector<double> raw_read_doubles(const std::string& file, const std::string& name) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t ds = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  REQUIRE(ds >= 0);
  hid_t space = H5Dget_space(ds);
  std::vector<double> out(std::size_t(H5Sget_simple_extent_npoints(space)));
  CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return out;
}

// A committed file with one dataset, so a test can add raw fixtures next to it.
std::string committed_file(const ScratchDir& dir, const std::string& name) {
  const std::string path = dir / name;
  File f = File::create(path);
  f.write("seed", arma::vec{1.0});
  f.commit();
  return path;
}

}  // namespace

TEST_SUITE("h5/hdf5") {

TEST_CASE("hdf5: a non-square matrix round-trips with shape (rows, cols) and element [i, j] in place") {
  ScratchDir dir;
  const std::string path = dir / "m.h5";
  arma::mat m(3, 5);
  for (arma::uword i = 0; i < m.n_rows; ++i)
    for (arma::uword j = 0; j < m.n_cols; ++j) m(i, j) = 10.0 * double(i) + double(j) + 0.25;
  m(2, 4) = -1e-300;
  {
    File f = File::create(path);
    f.write("eval/gate", m);
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.shape("eval/gate") == std::vector<std::uint64_t>{3, 5});
  const arma::mat back = f.read_matrix("eval/gate");
  REQUIRE(back.n_rows == 3);
  REQUIRE(back.n_cols == 5);
  CHECK(arma::approx_equal(back, m, "absdiff", 0.0));

  // The stored order is row-major, as h5py/numpy index it: flat[i * cols + j] == m(i, j).
  const std::vector<double> flat = raw_read_doubles(path, "/eval/gate");
  REQUIRE(flat.size() == 15);
  for (arma::uword i = 0; i < 3; ++i)
    for (arma::uword j = 0; j < 5; ++j) CHECK(flat[i * 5 + j] == m(i, j));
}

TEST_CASE("hdf5: vec, rowvec, uvec and urowvec round-trip as 1-D datasets") {
  ScratchDir dir;
  const std::string path = dir / "v.h5";
  const arma::vec v{1.5, -2.0, 3e10, 0.1};
  const arma::rowvec r{7.0, 8.0, 9.0};
  const arma::uvec u{0, 1, 42, (arma::uword(1) << 53) + 1, ~arma::uword(0)};  // exact beyond 2^53
  const arma::urowvec ur{3, 2, 1};
  {
    File f = File::create(path);
    f.write("v", v);
    f.write("r", r);
    f.write("u", u);
    f.write("ur", ur);
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.shape("v") == std::vector<std::uint64_t>{4});
  CHECK(f.shape("r") == std::vector<std::uint64_t>{3});
  CHECK(f.shape("u") == std::vector<std::uint64_t>{5});
  CHECK(arma::approx_equal(f.read_vector("v"), v, "absdiff", 0.0));
  CHECK(arma::approx_equal(f.read_vector("r"), arma::vec(r.t()), "absdiff", 0.0));
  CHECK(arma::all(f.read_uvec("u") == u));
  CHECK(arma::all(f.read_uvec("ur") == arma::uvec(ur.t())));
  // A 1-D dataset read as a matrix is a column; uint64 data reads as numbers too.
  const arma::mat col = f.read_matrix("v");
  CHECK(col.n_rows == 4);
  CHECK(col.n_cols == 1);
  CHECK(f.read_vector("ur")(0) == 3.0);
}

TEST_CASE("hdf5: a matrix of one row or one column reads as a vector") {
  ScratchDir dir;
  const std::string path = dir / "rc.h5";
  {
    File f = File::create(path);
    f.write("row", arma::mat{{1, 2, 3}});
    f.write("col", arma::mat(arma::vec{4, 5}));
    f.write("full", arma::mat(2, 3, arma::fill::ones));
    f.commit();
  }
  File f = File::open(path);
  CHECK(arma::approx_equal(f.read_vector("row"), arma::vec{1, 2, 3}, "absdiff", 0.0));
  CHECK(arma::approx_equal(f.read_vector("col"), arma::vec{4, 5}, "absdiff", 0.0));
  const std::string msg = error_of([&] { f.read_vector("full"); });
  CHECK(one_line(msg));
  CHECK(has(msg, "'full' has shape (2, 3), expected a 1-D dataset"));
}

TEST_CASE("hdf5: strings round-trip as variable-length UTF-8, empty ones included") {
  ScratchDir dir;
  const std::string path = dir / "s.h5";
  const std::vector<std::string> words{"iy", "", "na\xc3\xafve", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "a b "};
  {
    File f = File::create(path);
    f.write("names", words);
    f.write("none", std::vector<std::string>{});
    f.write("numbers", arma::vec{1});
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.read_strings("names") == words);
  CHECK(f.read_strings("none").empty());
  CHECK(f.shape("names") == std::vector<std::uint64_t>{5});
  CHECK(f.is_string_dataset("names"));
  CHECK_FALSE(f.is_string_dataset("numbers"));
  CHECK_FALSE(f.is_string_dataset("/"));  // a group is not a string dataset

  // The stored type is what h5py reads as str: variable-length, UTF-8.
  hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t ds = H5Dopen2(fid, "/names", H5P_DEFAULT);
  hid_t type = H5Dget_type(ds);
  CHECK(H5Tis_variable_str(type) > 0);
  CHECK(H5Tget_cset(type) == H5T_CSET_UTF8);
  H5Tclose(type);
  H5Dclose(ds);
  H5Fclose(fid);
}

TEST_CASE("hdf5: a string with a NUL byte is refused with a one-line error") {
  ScratchDir dir;
  File f = File::create(dir / "nul.h5");
  const std::string msg = error_of([&] { f.write("s", std::vector<std::string>{"ok", std::string("a\0b", 3)}); });
  CHECK(one_line(msg));
  CHECK(has(msg, "string 1 contains a NUL byte"));
}

TEST_CASE("hdf5: fixed-length string datasets (numpy 'S', PyTables) read back without padding") {
  ScratchDir dir;
  const std::string path = committed_file(dir, "fixed.h5");
  raw_write_fixed_strings(path, "/nullpad", 6, H5T_STR_NULLPAD, H5T_CSET_ASCII, {"iy", "aa", "abcdef", ""});
  raw_write_fixed_strings(path, "/nullterm", 6, H5T_STR_NULLTERM, H5T_CSET_UTF8, {"\xc3\xa9t\xc3\xa9", "x"});
  raw_write_fixed_strings(path, "/spacepad", 5, H5T_STR_SPACEPAD, H5T_CSET_ASCII, {"ab", "abcde"});
  File f = File::open(path);
  CHECK(f.is_string_dataset("nullpad"));
  CHECK(f.read_strings("nullpad") == std::vector<std::string>{"iy", "aa", "abcdef", ""});
  CHECK(f.read_strings("nullterm") == std::vector<std::string>{"\xc3\xa9t\xc3\xa9", "x"});
  CHECK(f.read_strings("spacepad") == std::vector<std::string>{"ab", "abcde"});
}

TEST_CASE("hdf5: numeric readers convert any integer or float stored type") {
  ScratchDir dir;
  const std::string path = committed_file(dir, "types.h5");
  const std::int32_t i32[6] = {1, -2, 3, 4, 5, 6};  // a 2 x 3 int32 matrix
  const std::uint8_t u8[3] = {0, 7, 255};
  const std::int16_t i16[3] = {0, 9, 300};
  const float f32[2] = {0.5f, 2.0f};
  const double whole[3] = {0.0, 3.0, 9007199254740992.0};
  const double fraction[2] = {1.0, 2.5};
  const double nan[1] = {std::nan("")};
  raw_write(path, "/i32", H5T_STD_I32BE, H5T_NATIVE_INT32, {2, 3}, i32);  // big-endian on disk
  raw_write(path, "/u8", H5T_STD_U8LE, H5T_NATIVE_UINT8, {3}, u8);
  raw_write(path, "/i16", H5T_STD_I16LE, H5T_NATIVE_INT16, {3}, i16);
  raw_write(path, "/f32", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2}, f32);
  raw_write(path, "/whole", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {3}, whole);
  raw_write(path, "/fraction", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, fraction);
  raw_write(path, "/nan", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {1}, nan);
  raw_write(path, "/neg", H5T_STD_I64LE, H5T_NATIVE_INT32, {3}, i32);  // {1, -2, 3}

  File f = File::open(path);
  const arma::mat m = f.read_matrix("i32");
  REQUIRE(m.n_rows == 2);
  REQUIRE(m.n_cols == 3);
  CHECK(m(0, 1) == -2.0);
  CHECK(m(1, 0) == 4.0);
  CHECK(arma::approx_equal(f.read_vector("f32"), arma::vec{0.5, 2.0}, "absdiff", 0.0));
  CHECK(arma::all(f.read_uvec("u8") == arma::uvec{0, 7, 255}));
  CHECK(arma::all(f.read_uvec("i16") == arma::uvec{0, 9, 300}));
  CHECK(arma::all(f.read_uvec("whole") == arma::uvec{0, 3, arma::uword(1) << 53}));

  // read_uvec refuses what would silently change under a plain conversion.
  std::string msg = error_of([&] { f.read_uvec("i32"); });
  CHECK(one_line(msg));
  CHECK(has(msg, "'i32'"));  // rank 2, not a vector
  msg = error_of([&] { f.read_uvec("neg"); });
  CHECK(one_line(msg));
  CHECK(has(msg, "dataset 'neg' has value -2 at index 1, expected non-negative integers"));
  msg = error_of([&] { f.read_uvec("fraction"); });
  CHECK(has(msg, "value 2.5 at index 1"));
  msg = error_of([&] { f.read_uvec("nan"); });
  CHECK(has(msg, "value nan at index 0"));
}

TEST_CASE("hdf5: attributes of every kind on the root, a group and a dataset") {
  ScratchDir dir;
  const std::string path = dir / "a.h5";
  const std::string long_text(100000, 'x');  // bigger than an object header (64 KiB) can hold inline
  {
    File f = File::create(path);
    f.write("model/W", arma::mat(2, 2, arma::fill::eye));
    f.set_attr("/", "version", std::string("0.1.0"));
    f.set_attr("/", "command_line", "moe-train --seed 7");  // const char*
    f.set_attr("/", "empty", std::string());
    f.set_attr("/", "utf8", std::string("F\xe2\x82\x80 (Hz)"));
    f.set_attr("/", "config", long_text);
    f.set_attr("/", "seed", std::int64_t(7));
    f.set_attr("/", "big", std::int64_t(-9223372036854775807LL));
    f.set_attr("/", "tiny", 1e-300);
    f.set_attr("model", "kind", "mixture");
    f.set_attr("model/W", "scale", 0.5);
    f.set_attr("history", "epochs", std::int64_t(3));  // a missing object is created as a group
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.attr_string("/", "version") == "0.1.0");
  CHECK(f.attr_string("", "command_line") == "moe-train --seed 7");
  CHECK(f.attr_string("/", "empty").empty());
  CHECK(f.attr_string("/", "utf8") == "F\xe2\x82\x80 (Hz)");
  CHECK(f.attr_string("/", "config") == long_text);
  CHECK(f.attr_int("/", "seed") == 7);
  CHECK(f.attr_int("/", "big") == -9223372036854775807LL);
  CHECK(f.attr_double("/", "tiny") == 1e-300);
  CHECK(f.attr_double("/", "seed") == 7.0);  // integers read as doubles too
  CHECK(f.attr_string("/model", "kind") == "mixture");
  CHECK(f.attr_double("model/W", "scale") == 0.5);
  CHECK(f.is_group("history"));
  CHECK(f.attr_int("history", "epochs") == 3);
  CHECK(f.has_attr("/", "seed"));
  CHECK(f.has_attr("model/W", "scale"));
  CHECK_FALSE(f.has_attr("/", "nope"));
  CHECK_FALSE(f.has_attr("no/such/object", "seed"));

  // Wrong kind and missing attributes: one line naming file, object and attribute.
  std::string msg = error_of([&] { f.attr_string("/", "seed"); });
  CHECK(one_line(msg));
  CHECK(has(msg, path));
  CHECK(has(msg, "attribute 'seed' of '/' is not a string"));
  msg = error_of([&] { f.attr_int("/", "tiny"); });
  CHECK(has(msg, "attribute 'tiny' of '/' is not an integer"));
  msg = error_of([&] { f.attr_double("model", "kind"); });
  CHECK(has(msg, "attribute 'kind' of 'model' is not a number"));
  msg = error_of([&] { f.attr_int("model", "experts"); });
  CHECK(one_line(msg));
  CHECK(has(msg, "attribute 'experts' of 'model' is missing"));
  msg = error_of([&] { f.attr_int("nowhere", "experts"); });
  CHECK(has(msg, "no object 'nowhere'"));
}

TEST_CASE("hdf5: setting an attribute again replaces it, even with another type") {
  ScratchDir dir;
  const std::string path = dir / "re.h5";
  {
    File f = File::create(path);
    f.set_attr("/", "x", "text");
    f.set_attr("/", "x", std::int64_t(5));
    f.set_attr("/", "y", 1.0);
    f.set_attr("/", "y", 2.0);
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.attr_int("/", "x") == 5);
  CHECK(f.attr_double("/", "y") == 2.0);
}

TEST_CASE("hdf5: nested groups are created on demand, children() lists sorted names") {
  ScratchDir dir;
  const std::string path = dir / "g.h5";
  {
    File f = File::create(path);
    f.write("/eval/test/gate", arma::mat(2, 3, arma::fill::zeros));  // leading slash optional
    f.write("eval/test/labels", arma::uvec{0, 1, 1});
    f.write("eval//train/gate/", arma::mat(2, 1, arma::fill::ones));  // doubled and trailing slashes
    f.write("zeta", arma::vec{1});
    f.write("alpha", arma::vec{2});
    f.create_group("eval/empty");
    f.create_group("a/b/c");
    f.create_group("/");  // the root: nothing to do
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.children("/") == std::vector<std::string>{"a", "alpha", "eval", "zeta"});
  CHECK(f.children("") == f.children("/"));
  CHECK(f.children("eval") == std::vector<std::string>{"empty", "test", "train"});
  CHECK(f.children("/eval/test/") == std::vector<std::string>{"gate", "labels"});
  CHECK(f.children("eval/empty").empty());
  CHECK(f.children("a/b") == std::vector<std::string>{"c"});

  CHECK(f.exists("/"));
  CHECK(f.exists("eval/test/gate"));
  CHECK(f.exists("/eval/train/gate"));
  CHECK(f.exists("a/b/c"));
  CHECK_FALSE(f.exists("eval/missing"));
  CHECK_FALSE(f.exists("missing/deeper/still"));
  CHECK_FALSE(f.exists("zeta/below_a_dataset"));
  CHECK(f.is_group("eval/test"));
  CHECK(f.is_group("/"));
  CHECK_FALSE(f.is_group("zeta"));
  CHECK(f.is_dataset("zeta"));
  CHECK_FALSE(f.is_dataset("eval"));
  CHECK_FALSE(f.is_dataset("nothing"));

  // shape() is for datasets; a group or a missing name is an error (callers tell them apart with is_group).
  std::string msg = error_of([&] { f.shape("eval"); });
  CHECK(one_line(msg));
  CHECK(has(msg, "'eval' is a group, not a dataset"));
  msg = error_of([&] { f.children("zeta"); });
  CHECK(has(msg, "'zeta' is not a group"));
  msg = error_of([&] { f.children("nope"); });
  CHECK(has(msg, "group 'nope' is missing"));
}

TEST_CASE("hdf5: writing an existing dataset replaces it, a group is never silently replaced") {
  ScratchDir dir;
  const std::string path = dir / "o.h5";
  {
    File f = File::create(path);
    f.write("x", arma::mat(3, 3, arma::fill::ones));
    f.write("x", arma::mat(2, 5, arma::fill::zeros));
    f.write("s", arma::vec{1, 2});
    f.write("s", std::vector<std::string>{"now", "text"});
    f.write("g/inner", arma::vec{1});
    const std::string msg = error_of([&] { f.write("g", arma::vec{1}); });
    CHECK(one_line(msg));
    CHECK(has(msg, "cannot write dataset 'g': a group of that name exists"));
    const std::string under = error_of([&] { f.write("x/y", arma::vec{1}); });
    CHECK(has(under, "cannot create group 'x': a dataset of that name exists"));
    CHECK(error_of([&] { f.write("/", arma::vec{1}); }) != "");
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.shape("x") == std::vector<std::uint64_t>{2, 5});
  CHECK(arma::accu(f.read_matrix("x")) == 0.0);
  CHECK(f.read_strings("s") == std::vector<std::string>{"now", "text"});
  CHECK(f.children("/") == std::vector<std::string>{"g", "s", "x"});
}

TEST_CASE("hdf5: empty matrices, vectors and string lists round-trip with their shapes") {
  ScratchDir dir;
  const std::string path = dir / "e.h5";
  {
    File f = File::create(path);
    f.write("zero_rows", arma::mat(0, 4));
    f.write("zero_cols", arma::mat(3, 0));
    f.write("nothing", arma::mat());
    f.write("vec", arma::vec());
    f.write("uvec", arma::uvec());
    f.write("strings", std::vector<std::string>());
    f.commit();
  }
  File f = File::open(path);
  CHECK(f.shape("zero_rows") == std::vector<std::uint64_t>{0, 4});
  CHECK(f.shape("zero_cols") == std::vector<std::uint64_t>{3, 0});
  CHECK(f.shape("nothing") == std::vector<std::uint64_t>{0, 0});
  const arma::mat a = f.read_matrix("zero_rows"), b = f.read_matrix("zero_cols");
  CHECK(a.n_rows == 0);
  CHECK(a.n_cols == 4);
  CHECK(b.n_rows == 3);
  CHECK(b.n_cols == 0);
  CHECK(f.read_vector("vec").n_elem == 0);
  CHECK(f.read_uvec("uvec").n_elem == 0);
  CHECK(f.read_strings("strings").empty());
}

TEST_CASE("hdf5: nothing appears before commit, an uncommitted file leaves nothing behind") {
  ScratchDir dir;
  const std::string path = dir / "run.h5";
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  {
    File f = File::create(path);
    f.write("x", arma::vec{1, 2, 3});
    CHECK(fs::exists(temp));
    CHECK_FALSE(fs::exists(path));
  }  // destroyed without commit()
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(temp));
  CHECK(dir.entries() == 0);

  // The same when an exception unwinds through the writer.
  CHECK_THROWS_AS(([&] {
                    File f = File::create(path);
                    f.write("x", arma::vec{1});
                    moe::fail("simulated failure half-way");
                  }()),
                  moe::Error);
  CHECK(dir.entries() == 0);

  // commit() publishes the file and removes the temporary; the File is closed afterwards.
  File f = File::create(path);
  f.write("x", arma::vec{4});
  File moved = std::move(f);  // ownership moves with the object
  moved.commit();
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(temp));
  CHECK(dir.entries() == 1);
  std::string msg = error_of([&] { moved.write("y", arma::vec{1}); });
  CHECK(one_line(msg));
  CHECK(has(msg, "closed"));
  CHECK(error_of([&] { moved.commit(); }) != "");
  CHECK(File::open(path).read_vector("x")(0) == 4.0);

  // Creating over an existing result replaces it only at commit.
  {
    File g = File::create(path);
    g.write("x", arma::vec{5});
  }
  CHECK(File::open(path).read_vector("x")(0) == 4.0);
}

TEST_CASE("hdf5: a file opened read-only refuses writes") {
  ScratchDir dir;
  const std::string path = committed_file(dir, "ro.h5");
  File f = File::open(path);
  std::string msg = error_of([&] { f.write("x", arma::vec{1}); });
  CHECK(one_line(msg));
  CHECK(has(msg, "read-only"));
  CHECK(has(error_of([&] { f.set_attr("/", "a", 1.0); }), "read-only"));
  CHECK(has(error_of([&] { f.commit(); }), "read-only"));
}

TEST_CASE("hdf5: create in a missing or unwritable directory fails with one line and creates nothing") {
  ScratchDir dir;
  const std::string path = dir / "no/such/dir/r.h5";
  std::string msg = error_of([&] { File::create(path); });
  CHECK(one_line(msg));
  CHECK(has(msg, "cannot write " + path));
  CHECK(has(msg, "does not exist"));
  CHECK(dir.entries() == 0);

  msg = error_of([&] { File::create(dir.path.string()); });
  CHECK(one_line(msg));
  CHECK(has(msg, "is a directory"));

  if (::geteuid() != 0) {  // root may write anywhere
    fs::create_directory(dir.path / "locked");
    fs::permissions(dir.path / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    msg = error_of([&] { File::create(dir / "locked/r.h5"); });
    CHECK(one_line(msg));
    CHECK(has(msg, "not writable"));
    fs::permissions(dir.path / "locked", fs::perms::owner_all);
  }
}

TEST_CASE("hdf5: opening a missing, non-HDF5 or truncated file fails with one line") {
  ScratchDir dir;
  std::string msg = error_of([&] { File::open(dir / "missing.h5"); });
  CHECK(msg == "cannot open " + (dir / "missing.h5") + ": no such file");

  const std::string text = dir / "data.csv";
  std::ofstream(text) << "a,b\n1,2\n";
  msg = error_of([&] { File::open(text); });
  CHECK(msg == text + " is not an HDF5 file");

  const std::string empty = dir / "empty.h5";
  std::ofstream(empty).close();
  CHECK(error_of([&] { File::open(empty); }) == empty + " is not an HDF5 file");

  // A real HDF5 file cut short: the signature is there, the rest is not.
  const std::string full = committed_file(dir, "full.h5"), cut = dir / "cut.h5";
  {
    std::ifstream in(full, std::ios::binary);
    std::vector<char> bytes(200);
    in.read(bytes.data(), std::streamsize(bytes.size()));
    std::ofstream(cut, std::ios::binary).write(bytes.data(), in.gcount());
  }
  msg = error_of([&] { File::open(cut); });
  CHECK(one_line(msg));
  CHECK(has(msg, cut));

  msg = error_of([&] { File::open(dir.path.string()); });
  CHECK(has(msg, "is a directory"));
}

TEST_CASE("hdf5: reading a missing or mistyped dataset names the file and the dataset") {
  ScratchDir dir;
  const std::string path = committed_file(dir, "model.h5");
  {  // add a string dataset and a rank-3 dataset next to it
    const double cube[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    raw_write(path, "/cube", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2, 2, 2}, cube);
    const double scalar_value = 3.0;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(f, "/scalar", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &scalar_value);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
    raw_write_fixed_strings(path, "/label", 4, H5T_STR_NULLPAD, H5T_CSET_ASCII, {"a", "b"});
  }
  File f = File::open(path);

  std::string msg = error_of([&] { f.read_matrix("model/gate/W"); });
  CHECK(msg == path + ": dataset 'model/gate/W' is missing");
  CHECK(error_of([&] { f.read_vector("/model/gate/W"); }) == msg);
  CHECK(has(error_of([&] { f.read_uvec("nope"); }), "dataset 'nope' is missing"));
  CHECK(has(error_of([&] { f.read_strings("nope"); }), "dataset 'nope' is missing"));
  CHECK(has(error_of([&] { f.shape("nope"); }), "dataset 'nope' is missing"));
  CHECK(has(error_of([&] { f.is_string_dataset("nope"); }), "dataset 'nope' is missing"));
  CHECK(has(error_of([&] { f.read_matrix("seed/below"); }), "dataset 'seed/below' is missing"));

  msg = error_of([&] { f.read_matrix("label"); });
  CHECK(one_line(msg));
  CHECK(has(msg, path + ": dataset 'label' is not numeric"));
  CHECK(has(error_of([&] { f.read_vector("label"); }), "dataset 'label' is not numeric"));
  CHECK(has(error_of([&] { f.read_uvec("label"); }), "dataset 'label' is not numeric"));
  CHECK(has(error_of([&] { f.read_strings("seed"); }), "dataset 'seed' is not a string dataset"));

  msg = error_of([&] { f.read_matrix("cube"); });
  CHECK(msg == path + ": dataset 'cube' has rank 3, expected 1 or 2");
  CHECK(has(error_of([&] { f.read_vector("cube"); }), "has rank 3, expected 1"));
  CHECK(f.shape("cube") == std::vector<std::uint64_t>{2, 2, 2});
  CHECK(f.shape("scalar").empty());
  CHECK(has(error_of([&] { f.read_matrix("scalar"); }), "has rank 0, expected 1 or 2"));
  CHECK(has(error_of([&] { f.read_matrix("/"); }), "'/' is a group, not a dataset"));
}

TEST_CASE("hdf5: no HDF5 object or file stays open, on success or failure") {
  // Objects (groups, datasets, attributes, named types) open in any file, and files open at all.
  auto open_objects = [] {
    return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR);
  };
  auto open_files = [] { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE); };
  ScratchDir dir;
  const std::string path = dir / "leak.h5";
  {
    File f = File::create(path);
    f.write("a/m", arma::mat(2, 3, arma::fill::ones));
    f.write("a/s", std::vector<std::string>{"x", "y"});
    f.set_attr("a", "k", "v");
    f.set_attr("a/m", "d", 1.0);
    CHECK(error_of([&] { f.write("a/m/x", arma::vec{1}); }) != "");
    CHECK(error_of([&] { f.write("a", arma::vec{1}); }) != "");
    CHECK(open_objects() == 0);
    f.commit();
  }
  CHECK(open_files() == 0);
  {
    File f = File::open(path);
    CHECK(f.read_strings("a/s").size() == 2);
    CHECK(f.attr_string("a", "k") == "v");
    CHECK(f.children("a").size() == 2);
    CHECK(error_of([&] { f.read_matrix("a/s"); }) != "");
    CHECK(error_of([&] { f.read_strings("a/m"); }) != "");
    CHECK(error_of([&] { f.attr_int("a", "k"); }) != "");
    CHECK(error_of([&] { f.attr_int("a", "missing"); }) != "");
    CHECK(error_of([&] { f.shape("a"); }) != "");
    CHECK(open_objects() == 0);
    CHECK(open_files() == 1);
  }
  CHECK(open_files() == 0);
  {
    File f = File::create(dir / "uncommitted.h5");
    f.write("x", arma::vec{1});
  }
  CHECK(open_files() == 0);
}

TEST_CASE("hdf5: failures print nothing on stderr (no HDF5 error-stack dumps)") {
  ScratchDir dir;
  const std::string path = committed_file(dir, "quiet.h5");
  const std::string captured = dir / "stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  std::FILE* sink = std::fopen(captured.c_str(), "w");
  REQUIRE(sink != nullptr);
  ::dup2(::fileno(sink), 2);
  int failures = 0;
  {
    File f = File::open(path);
    failures += error_of([&] { f.read_matrix("a/b/c"); }) != "";
    failures += error_of([&] { f.attr_string("/", "nope"); }) != "";
    failures += f.exists("x/y/z") ? 0 : 1;
    failures += error_of([&] { File::open(dir / "missing.h5"); }) != "";
    const std::string cut = dir / "cut.h5";
    std::ofstream(cut, std::ios::binary) << "\x89HDF\r\n\x1a\n" << std::string(100, '\0');
    failures += error_of([&] { File::open(cut); }) != "";
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(sink);
  CHECK(failures == 5);
  std::ifstream in(captured);
  const std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(printed == "");
}

TEST_CASE("hdf5: a dataset declaring more values than fit in memory is refused before anything is allocated") {
  // Found by the HDF5 fuzz target (tests/fuzz/regressions/hdf5/absurd_extent_*): chunked storage is allocated
  // as it is written, so a file of a few KB can declare 2^40 values, and the readers used to size their
  // buffers from the extent alone.
  ScratchDir dir;
  const std::string path = committed_file(dir, "absurd.h5");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  auto declare = [&](const char* name, hid_t type, std::vector<hsize_t> dims) {
    const std::vector<hsize_t> unlimited(dims.size(), H5S_UNLIMITED), chunk(dims.size(), 1024);
    hid_t space = H5Screate_simple(int(dims.size()), dims.data(), unlimited.data());
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, int(dims.size()), chunk.data());
    hid_t ds = H5Dcreate2(f, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(ds >= 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
  };
  hid_t fixed = H5Tcopy(H5T_C_S1);
  H5Tset_size(fixed, 4);
  declare("/numbers", H5T_IEEE_F64LE, {hsize_t(1) << 40});
  declare("/grid", H5T_IEEE_F64LE, {hsize_t(1) << 32, hsize_t(1) << 32});  // 2^64 values: overflows a size_t
  declare("/names", fixed, {hsize_t(1) << 40});
  H5Tclose(fixed);
  H5Fclose(f);

  File file = File::open(path);
  CHECK(file.shape("numbers") == std::vector<std::uint64_t>{std::uint64_t(1) << 40});  // the shape is fine to ask
  for (const auto& [name, read] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"numbers", [&] { file.read_vector("numbers"); }},
           {"numbers", [&] { file.read_matrix("numbers"); }},
           {"numbers", [&] { file.read_uvec("numbers"); }},
           {"grid", [&] { file.read_matrix("grid"); }},
           {"names", [&] { file.read_strings("names"); }}}) {
    const std::string msg = error_of(read);
    CAPTURE(msg);
    CHECK(one_line(msg));
    CHECK(has(msg, "dataset '" + name + "' has shape ("));
    CHECK(has(msg, "of memory, more than this machine's"));
  }
  CHECK(has(error_of([&] { file.read_matrix("grid"); }), "its 18446744073709551616 values need"));
}

}  // TEST_SUITE
