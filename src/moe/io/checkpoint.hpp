#pragma once
// Training checkpoints as HDF5 files: the Checkpointer of moe/train/trainer.hpp. Layout:
//   /checkpoint/<name>   one dataset per StateVisitor entry (matrices 2-D, lists 1-D, counts 1-element
//                        uint64, texts 1-element strings), e.g. /checkpoint/model/params/gate/V,
//                        /checkpoint/optimizer/m/3, /checkpoint/loop/epoch, /checkpoint/rng/engine
//   /checkpoint/run/identity   the run's settings; a checkpoint resumes only the run that wrote it
// Written through h5::File (temporary name, renamed when complete), so a kill mid-save leaves the
// previous checkpoint whole.
#include <string>

#include "moe/train/trainer.hpp"

namespace moe {

class FileCheckpointer final : public Checkpointer {
 public:
  // identity: the settings that must agree for a resume (e.g. the run's flags without --resume,
  // --epochs, --threads); compared line by line on restore.
  FileCheckpointer(std::string path, std::size_t every, std::string identity)
      : path_(std::move(path)), every_(every), identity_(std::move(identity)) {}

  std::size_t every() const override { return every_; }
  void save(const std::function<void(StateVisitor&)>& visit) override;
  bool restore(const std::function<void(StateVisitor&)>& visit) override;
  std::string where() const override { return path_; }
  std::size_t saves() const { return saves_; }

 private:
  std::string path_;
  std::size_t every_;
  std::string identity_;
  std::size_t saves_ = 0;
};

}  // namespace moe
