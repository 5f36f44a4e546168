// Fuzz target: the HDF5 input readers: moe::read_model (src/moe/io/model_io.cpp, the model of every
// moe-train result that moe-eval, --expert-models and --upcycle-from load), read_hdf5_table and
// load_dataset's HDF5 paths (src/moe/data/hdf5_table.cpp, src/moe/run/data_options.cpp: columns, filters,
// --feature-matrix), the synthetic language of --task lm (src/moe/lm/synthetic_language.cpp,
// src/moe/run/lm_data.cpp), and every reader of moe::h5::File (src/moe/h5/hdf5.cpp) on every object of the file.
//
// Design: a STRUCTURED target. The fuzz bytes are not an HDF5 file: they are a small program that builds
// a valid one. libhdf5's own parser of raw bytes is not our code, is known to crash on malformed files
// and nothing we do could fix that, so feeding it raw bytes would find only its bugs. What our code
// must survive is a well-formed file with the wrong content, and that is what the program writes:
//   1. a base chosen by byte 0: a real model written by write_model (kind and sizes from the bytes), a
//      table group of 1-D columns (and a 2-D feature matrix), a synthetic language, or nothing;
//   2. operations through moe::h5::File: datasets (float64 matrices and vectors, uint64 vectors,
//      strings) at names our loaders look for or junk, of any shape up to a few elements, holding NaN,
//      infinities, huge, negative and subnormal values; groups; string, float and int attributes with
//      the names and values our loaders parse (counts such as "-1" or "1e309", unknown kinds, ...);
//   3. operations through the HDF5 C API on the committed file, for what h5::File never writes: deleting
//      links and attributes, other element types (int8/int32/uint16/float32, fixed-length strings, enums,
//      compounds), scalar and rank-3 datasets, attributes holding several values, soft/hard/external
//      links (cycles included), and datasets whose declared extent is absurd (2^36 values and more,
//      chunked so the file stays tiny).
// Then the loaders read the file; bad content must be refused with a moe::Error. MOE_FUZZ_DEBUG=1 in the
// environment prints the operations and every refusal (to see what an input reaches).
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "moe/core/rng.hpp"
#include "moe/data/hdf5_table.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/io/model_io.hpp"
#include "moe/lm/synthetic_language.hpp"
#include "moe/models/model_registry.hpp"
#include "moe/models/model.hpp"
#include "moe/run/data_options.hpp"
#include "moe/run/lm_data.hpp"
#include "moe/sparse/router_registry.hpp"
#include "targets/fuzz_util.hpp"

namespace moe::fuzz {

namespace {

// Object paths the loaders look for, and some they do not.
std::vector<std::string> base_paths() {
  return {"model", "model/params", "model/standardizer", "model/standardizer/mean", "model/standardizer/scale",
          "model/feature_names", "model/target_names", "model/params/gate/V", "model/params/gate/c",
          "model/params/experts/0/W", "language", "language/log_prob", "data", "data/x", "data/y",
          "data/label", "data/pixels", "data/group", "x", "y", "label", "pixels", "/", "a/b/c", "model/model",
          "data/sub/x", "lm"};
}

// Attribute names: every ModelSpec key (all kinds), the synthetic language's, and junk.
const std::vector<std::string>& attr_names() {
  static const std::vector<std::string> all = [] {
  std::set<std::string> names{"rank", "scale", "seed", "contexts", "words", "entropy", "moe_layer", "version", "x"};
  ModelSpec s;
  for (const std::string& kind : ModelRegistry::instance().names()) {
    s.kind = kind;
    s.moe_layer = s.kind == "lm";
    for (const auto& [key, value] : s.to_attributes()) names.insert(key);
  }
  return std::vector<std::string>(names.begin(), names.end());
  }();
  return all;
}

const std::vector<std::string>& words() {
  static const std::vector<std::string> w{
      "mixture", "hme", "mlp", "meta-pi", "deep", "sparse", "lm", "classification", "regression", "softmax",
      "linear-gaussian", "linear-gaussian-full", "gaussian", "linear", "tanh", "relu", "sigmoid", "mos", "moc",
      "word", "char", "none", "topk", "noisy-topk", "switch", "gshard", "hash", "expert-choice", "soft",
      "balanced", "loss-free", "sigmoid-topk", "gelu", "true", "false", "0", "1", "2", "3", "4", "64", "65536", "-1", "-0",
      "1e309", "nan", "inf", "-inf", "0.5", "1e-300", "18446744073709551615", "18446744073709551616",
      "4294967297", "100000", "1000000000", " 2", "2 ", "0x10", "4,4", "1,,2", ",", "", "<unk>", "<eos>",
      "F1", "F2", "a", "b", "x", "y", "label"};
  return w;
}

// Shapes: mostly a few elements, sometimes empty.
arma::uword small_dim(ByteReader& in) { return in.below(5); }

class Program {
 public:
  Program(ByteReader& in, const std::string& path) : in_(in), path_(path), paths_(base_paths()), attrs_(attr_names()) {}

  void run() {
    {
      h5::File f = h5::File::create(path_);
      const std::uint8_t base = in_.u8();
      if (base & 1) refuses([&] { write_base_model(f, base >> 4); });
      if (base & 2) refuses([&] { write_base_table(f); });
      if (base & 4) refuses([&] { write_base_language(f); });
      for (int op = 0; op < 48 && !in_.empty(); ++op)
        if (!h5_op(f)) break;
      f.commit();
    }
    raw_ops();
  }

 private:
  std::string path() {
    const std::uint8_t k = in_.u8();
    if (k < 200) return paths_[k % paths_.size()];
    if (k < 240) return paths_[in_.u8() % paths_.size()] + "/" + in_.text(words(), 8);
    return in_.text(words(), 12);
  }
  std::string attr_name() { return in_.u8() < 230 ? attrs_[in_.u8() % attrs_.size()] : in_.text(words(), 8); }

  arma::mat matrix(arma::uword r, arma::uword c) {
    arma::mat m(r, c);
    for (double& v : m) v = in_.number();
    return m;
  }

  // One operation through moe::h5::File; false ends the phase.
  bool h5_op(h5::File& f) {
    const std::uint8_t op = in_.u8();
    switch (op % 10) {
      case 0:
        return false;
      case 1: {
        const std::string p = path();
        const arma::uword r = small_dim(in_), c = small_dim(in_);
        refuses([&] { f.write(p, matrix(r, c)); });
        paths_.push_back(p);
        break;
      }
      case 2: {
        const std::string p = path();
        const arma::vec v = arma::vectorise(matrix(small_dim(in_) + (op >> 7) * 3, 1));
        refuses([&] { f.write(p, v); });
        paths_.push_back(p);
        break;
      }
      case 3: {
        const std::string p = path();
        arma::uvec v(small_dim(in_));
        for (auto& x : v) x = (in_.u8() & 1) ? in_.u8() : in_.u64();
        refuses([&] { f.write(p, v); });
        paths_.push_back(p);
        break;
      }
      case 4: {
        const std::string p = path();
        std::vector<std::string> v(small_dim(in_));
        for (auto& s : v) s = in_.text(words());
        refuses([&] { f.write(p, v); });
        paths_.push_back(p);
        break;
      }
      case 5: {
        const std::string p = path();
        refuses([&] { f.create_group(p); });
        paths_.push_back(p);
        break;
      }
      case 6:
      case 7: {
        const std::string o = path(), n = attr_name(), v = in_.text(words());
        refuses([&] { f.set_attr(o, n, v); });
        break;
      }
      case 8: {
        const std::string o = path(), n = attr_name();
        const double v = in_.number();
        refuses([&] { f.set_attr(o, n, v); });
        break;
      }
      default: {
        const std::string o = path(), n = attr_name();
        const std::int64_t v = (in_.u8() & 1) ? std::int64_t(std::int8_t(in_.u8())) : std::int64_t(in_.u64());
        refuses([&] { f.set_attr(o, n, v); });
        break;
      }
    }
    return true;
  }

  // A real model, as moe-train writes it.
  void write_base_model(h5::File& f, unsigned which) {
    static const char* kinds[] = {"mixture", "hme", "mlp", "meta-pi", "deep", "sparse", "lm", "mixture"};
    ModelSpec s;
    s.kind = kinds[which % 8];
    s.task = (which & 8) ? Task::regression : Task::classification;
    s.inputs = 1 + in_.below(3);
    s.outputs = 1 + in_.below(3);
    s.experts = 1 + in_.below(3);
    s.hidden = 1 + in_.below(3);
    s.depth = 1;
    s.branching = 2;
    s.expert = s.kind == "meta-pi" ? "mlp" : in_.pick<std::string>({"softmax", "linear-gaussian", "gaussian", "linear-gaussian-full"});
    if (s.task == Task::regression && s.expert == "softmax") s.expert = "linear-gaussian";
    s.output = s.task == Task::regression ? "linear" : "softmax";
    s.gate = (s.kind == "mixture" && (in_.u8() & 1)) ? "gaussian" : "linear";
    s.layer_experts = {2};
    s.expert_hidden = 2;
    s.gate_hidden = 2;
    s.sparse.model_dim = 2;
    s.sparse.ff_dim = 2;
    s.sparse.top_k = 1;
    if (s.kind == "sparse") {  // every registered router
      const std::vector<std::string> routers = RouterRegistry::instance().names();
      s.sparse.router = routers[in_.below(routers.size())];
    }
    if (s.kind == "deep") s.layer_experts.assign(1 + in_.below(2), 1 + in_.below(3));
    if (s.kind == "deep") s.task = Task::classification;
    if (s.kind == "lm") {
      s.task = Task::lm;
      s.outputs = 2 + in_.below(3);
      s.embedding = 2;
      s.projection = 2;
      s.head = in_.pick<std::string>({"softmax", "mos", "moc"});
      s.moe_layer = s.head == "softmax" && (in_.u8() & 1);
      s.sparse.model_dim = s.hidden;
    }
    auto model = make_model(s);
    Rng rng(in_.u8());
    model->init(rng);
    Standardizer st;
    st.mean = arma::zeros(s.inputs);
    st.scale = arma::ones(s.inputs);
    std::vector<std::string> features, targets;
    for (arma::uword i = 0; i < s.inputs; ++i) features.push_back("F" + std::to_string(i));
    for (arma::uword i = 0; i < s.outputs; ++i) targets.push_back(i < 2 && s.kind == "lm" ? (i ? "<eos>" : "<unk>") : "c" + std::to_string(i));
    write_model(f, *model, st, features, targets);
    ParamList params;
    model->collect_state(params);
    for (const auto& p : params) paths_.push_back("model/params/" + p.name);
  }

  // A table group: 1-D columns x, y (numbers), label (strings), a 2-D feature matrix.
  void write_base_table(h5::File& f) {
    const std::string g = in_.pick<std::string>({"", "data/", "data/sub/", "lm/"});
    const arma::uword n = 1 + in_.below(4);
    f.write(g + "x", arma::vec(arma::vectorise(matrix(n, 1))));
    f.write(g + "y", arma::vec(arma::vectorise(matrix(n + (in_.u8() == 7), 1))));
    std::vector<std::string> labels(n);
    for (auto& s : labels) s = in_.text(words(), 4);
    f.write(g + "label", labels);
    f.write(g + "pixels", matrix(1 + in_.below(3), n + (in_.u8() == 9)));
  }

  void write_base_language(h5::File& f) {
    const arma::uword C = 1 + in_.below(3), V = 2 + in_.below(3);
    if (in_.u8() & 1) {
      write_synthetic_language_into(f, make_synthetic_language(std::max<arma::uword>(C, 2), V, 1, 1.0, in_.u8()));
    } else {
      f.write("language/log_prob", matrix(C, V));
    }
  }

  static void write_synthetic_language_into(h5::File& f, const SyntheticLanguage& L) {
    f.write("language/log_prob", L.log_prob);
    f.set_attr("language", "rank", std::int64_t(L.rank));
    f.set_attr("language", "scale", L.scale);
    f.set_attr("language", "seed", std::int64_t(L.seed));
  }

  // Phase 3: what only the C API can write. Every call may fail (e.g. a name that exists); that is fine.
  void raw_ops() {
    if (in_.empty()) return;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) throw std::runtime_error("fuzz harness: cannot reopen " + path_);
    for (int op = 0; op < 16 && !in_.empty(); ++op) raw_op(file);
    H5Fclose(file);
    H5Eclear2(H5E_DEFAULT);
  }

  static std::string abs(const std::string& p) { return p.empty() || p[0] != '/' ? "/" + p : p; }

  // The parent groups of `p`, created as needed (HDF5 does that with a link-creation property).
  static hid_t lcpl() {
    const hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    return l;
  }

  // A dataset of `rank` dims (0: scalar, -1: null dataspace). Chunked: extendible without limit, in
  // chunks of 2^20 values, so that HDF5 accepts any extent and allocates nothing until written.
  void raw_dataset(hid_t file, const std::string& p, hid_t type, int rank, const hsize_t* dims, bool chunked,
                   const void* data) {
    const hsize_t unlimited[2] = {H5S_UNLIMITED, H5S_UNLIMITED};
    const hid_t space = rank < 0    ? H5Screate(H5S_NULL)
                        : rank == 0 ? H5Screate(H5S_SCALAR)
                                    : H5Screate_simple(rank, dims, chunked ? unlimited : nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked && rank > 0) {
      std::vector<hsize_t> chunk(std::size_t(rank), rank == 1 ? hsize_t(1) << 20 : hsize_t(1) << 10);
      H5Pset_chunk(dcpl, rank, chunk.data());
    }
    const hid_t l = lcpl();
    const hid_t ds = H5Dcreate2(file, abs(p).c_str(), type, space, l, dcpl, H5P_DEFAULT);
    if (ds < 0 && debug()) H5Eprint2(H5E_DEFAULT, stderr);
    if (ds >= 0 && data) H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(l);
    H5Pclose(dcpl);
    H5Sclose(space);
  }

  void raw_op(hid_t file) {
    const std::uint8_t op = in_.u8();
    const std::string p = path();
    if (debug()) std::fprintf(stderr, "raw op %d on '%s'\n", op % 12, p.c_str());
    switch (op % 12) {
      case 0:
        H5Ldelete(file, abs(p).c_str(), H5P_DEFAULT);
        break;
      case 1: {
        const std::string name = attr_name();
        H5Adelete_by_name(file, abs(p).c_str(), name.c_str(), H5P_DEFAULT);
        break;
      }
      case 2: {  // small integer or float32 datasets of rank 0 to 3 (or a null dataspace)
        static const hid_t types[] = {H5T_NATIVE_INT8, H5T_NATIVE_INT32, H5T_NATIVE_UINT16, H5T_NATIVE_FLOAT,
                                      H5T_NATIVE_INT64, H5T_NATIVE_UCHAR};
        const hid_t type = in_.pick(types);
        const int rank = int(in_.below(5)) - 1;
        hsize_t dims[3] = {hsize_t(1 + in_.below(3)), hsize_t(1 + in_.below(3)), hsize_t(1 + in_.below(2))};
        std::vector<std::uint8_t> data(8 * 18);
        for (auto& b : data) b = in_.u8();
        raw_dataset(file, p, type, rank, dims, false, rank < 0 ? nullptr : data.data());
        break;
      }
      case 3: {  // fixed-length strings, null- or space-padded
        const hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, 1 + in_.below(6));
        H5Tset_strpad(type, (in_.u8() & 1) ? H5T_STR_SPACEPAD : H5T_STR_NULLPAD);
        const hsize_t n = in_.below(4);
        std::vector<char> data(48);
        for (auto& c : data) c = char(in_.u8());
        raw_dataset(file, p, type, 1, &n, false, data.data());
        H5Tclose(type);
        break;
      }
      case 4: {  // an enum (h5py's booleans) or a compound record
        const hsize_t n = 1 + in_.below(3);
        hid_t type;
        if (in_.u8() & 1) {
          type = H5Tenum_create(H5T_NATIVE_INT8);
          std::int8_t f = 0, t = 1;
          H5Tenum_insert(type, "FALSE", &f);
          H5Tenum_insert(type, "TRUE", &t);
        } else {
          type = H5Tcreate(H5T_COMPOUND, 16);
          H5Tinsert(type, "a", 0, H5T_NATIVE_DOUBLE);
          H5Tinsert(type, "b", 8, H5T_NATIVE_DOUBLE);
        }
        std::vector<std::uint8_t> data(64, 0);
        raw_dataset(file, p, type, 1, &n, false, data.data());
        H5Tclose(type);
        break;
      }
      case 5: {  // an absurd declared extent, chunked and unwritten, so the file stays small. (Not between
                 // a few elements and the machine's memory: such datasets are legitimate, but reading them
                 // would trip libFuzzer's 2 GiB -malloc_limit_mb.)
        static const hsize_t sizes[] = {hsize_t(1) << 36, hsize_t(1) << 40, hsize_t(1) << 62, hsize_t(1) << 48,
                                        (hsize_t(1) << 36) + 1};
        const int rank = 1 + int(in_.below(2));
        const hsize_t dims[2] = {in_.pick(sizes), rank == 2 ? in_.pick(sizes) : 1};
        const hsize_t d2[2] = {dims[0], (in_.u8() & 1) ? dims[1] : 1};
        raw_dataset(file, p, (in_.u8() & 1) ? H5T_NATIVE_DOUBLE : H5T_C_S1, rank, d2, true, nullptr);
        break;
      }
      case 6: {  // an attribute holding several values, or none, or of a numeric type where a string is read
        const std::string name = attr_name();
        const hid_t obj = H5Oopen(file, abs(p).c_str(), H5P_DEFAULT);
        if (obj < 0) break;
        if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
        const hsize_t n = in_.below(3);
        const hid_t space = (in_.u8() & 1) ? H5Screate(H5S_NULL) : H5Screate_simple(1, &n, nullptr);
        const hid_t type = (in_.u8() & 1) ? H5T_NATIVE_INT : H5T_NATIVE_DOUBLE;
        const hid_t a = H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
        const double values[2] = {in_.number(), in_.number()};
        const int ints[2] = {int(in_.u32()), int(in_.u32())};
        if (a >= 0) {
          H5Awrite(a, type, type == H5T_NATIVE_INT ? static_cast<const void*>(ints) : values);
          H5Aclose(a);
        }
        H5Sclose(space);
        H5Oclose(obj);
        break;
      }
      case 7: {  // a scalar attribute of another type: fixed string, uint64, float32, enum
        const std::string name = attr_name();
        const hid_t obj = H5Oopen(file, abs(p).c_str(), H5P_DEFAULT);
        if (obj < 0) break;
        if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
        const hid_t space = H5Screate(H5S_SCALAR);
        hid_t type = H5Tcopy(H5T_C_S1);
        const std::uint8_t k = in_.u8() % 3;
        if (k == 0) H5Tset_size(type, 4);
        if (k == 1) H5Tclose(type), type = H5Tcopy(H5T_NATIVE_UINT64);
        if (k == 2) H5Tclose(type), type = H5Tcopy(H5T_NATIVE_FLOAT);
        std::uint8_t data[8];
        for (auto& b : data) b = in_.u8();
        const hid_t a = H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) {
          H5Awrite(a, type, data);
          H5Aclose(a);
        }
        H5Tclose(type);
        H5Sclose(space);
        H5Oclose(obj);
        break;
      }
      case 8: {  // a soft link, maybe dangling
        const hid_t l = lcpl();
        H5Lcreate_soft(abs(path()).c_str(), file, abs(p).c_str(), l, H5P_DEFAULT);
        H5Pclose(l);
        break;
      }
      case 9: {  // a hard link to another object (a group linked into itself makes a cycle)
        const hid_t l = lcpl();
        H5Lcreate_hard(file, abs(path()).c_str(), file, abs(p).c_str(), l, H5P_DEFAULT);
        H5Pclose(l);
        break;
      }
      case 10: {  // an external link to a file that is not there
        const hid_t l = lcpl();
        H5Lcreate_external("moe-fuzz-missing.h5", "/model", file, abs(p).c_str(), l, H5P_DEFAULT);
        H5Pclose(l);
        break;
      }
      default: {  // a committed datatype: an object that is neither group nor dataset
        const hid_t type = H5Tcopy(H5T_NATIVE_DOUBLE);
        const hid_t l = lcpl();
        H5Tcommit2(file, abs(p).c_str(), type, l, H5P_DEFAULT, H5P_DEFAULT);
        H5Pclose(l);
        H5Tclose(type);
        break;
      }
    }
    H5Eclear2(H5E_DEFAULT);
  }

  ByteReader& in_;
  std::string path_;
  std::vector<std::string> paths_, attrs_;
};

// The names of the attributes of object `p` of the open file `raw` (listed with the C API: h5::File reads
// attributes by name only).
std::vector<std::string> attributes_of(hid_t raw, const std::string& p) {
  std::vector<std::string> names;
  const hid_t obj = H5Oopen(raw, ("/" + p).c_str(), H5P_DEFAULT);
  if (obj >= 0) {
    H5Aiterate2(
        obj, H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
          static_cast<std::vector<std::string>*>(out)->emplace_back(name);
          return 0;
        },
        &names);
    H5Oclose(obj);
  }
  H5Eclear2(H5E_DEFAULT);
  return names;
}

// Every h5::File reader on every object reachable from the root (depth and count bounded: hard links can
// make cycles).
void walk(const h5::File& f, hid_t raw, const std::string& group, int depth, int& budget) {
  std::vector<std::string> names;
  if (refuses([&] { names = f.children(group); })) return;
  for (const std::string& name : names) {
    if (--budget < 0) return;
    const std::string p = group == "/" ? name : group + "/" + name;
    std::vector<std::string> listed, expected = attributes_of(raw, p);
    if (!refuses([&] { listed = f.attributes(p); })) {
      std::sort(expected.begin(), expected.end());
      oracle(listed == expected, "attributes() lists other names than the object has");
    }
    for (const std::string& a : attributes_of(raw, p)) {
      bool has = false;
      refuses([&] { has = f.has_attr(p, a); });
      oracle(has, "has_attr denies an attribute the object has");
      refuses([&] { f.attr_string(p, a); });
      refuses([&] { f.attr_double(p, a); });
      refuses([&] { f.attr_int(p, a); });
    }
    if (f.is_dataset(p)) {
      refuses([&] { f.shape(p); });
      refuses([&] { f.is_string_dataset(p); });
      refuses([&] { f.read_matrix(p); });
      refuses([&] { f.read_vector(p); });
      refuses([&] {
        const arma::uvec v = f.read_uvec(p);
        (void)v;
      });
      refuses([&] { f.read_strings(p); });
    } else if (f.is_group(p) && depth < 6) {
      walk(f, raw, p, depth + 1, budget);
    }
  }
}

void load_all(const std::string& path) {
  std::vector<std::string> groups;  // the candidate --hdf5-group values that exist
  {
    std::unique_ptr<h5::File> f;
    if (refuses([&] { f = std::make_unique<h5::File>(h5::File::open(path)); })) return;
    refuses([&] {
      const SavedModel m = read_model(*f);
      oracle(m.model != nullptr && m.feature_names.size() == m.model->spec().inputs, "read_model gave an inconsistent model");
    });
    const hid_t raw = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (raw < 0) throw std::runtime_error("fuzz harness: cannot open " + path + " a second time");
    int budget = 100;
    walk(*f, raw, "/", 0, budget);
    H5Fclose(raw);
    for (const char* g : {"/", "data", "data/sub", "lm", "model"})
      if (f->is_group(g)) groups.emplace_back(g);
  }

  // Tables and data sets: each group a user could name with --hdf5-group.
  for (const std::string& group : groups) {
    Table t;
    if (refuses([&] { t = read_hdf5_table(path, group); })) continue;
    oracle(!t.columns.empty() && !t.rows.empty(), "read_hdf5_table accepted an empty table");
    DataOptions o;
    o.path = path;
    o.hdf5_group = group;
    o.task = t.columns.size() % 2 ? "regression" : "classification";
    o.features = {t.columns.front()};
    o.target = t.columns.back();
    o.filters = {t.columns.front() + "=" + t.rows.front().front()};
    refuses([&] { load_dataset(o); });
    o.filters.clear();
    o.features.clear();
    o.feature_matrix = "pixels";
    refuses([&] { load_dataset(o); });
  }
  DataOptions lm;
  lm.path = path;
  lm.task = "lm";
  Rng rng(1);
  refuses([&] { prepare_lm_data(lm, rng); });  // read_synthetic_language, then the data set
}

}  // namespace

int fuzz_hdf5(const std::uint8_t* data, std::size_t size) {
  ByteReader in(data, size);
  ScratchFile file("input.h5");
  Program(in, file.path()).run();
  load_all(file.path());
  return 0;
}

}  // namespace moe::fuzz
