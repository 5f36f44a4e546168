#pragma once
// Where an output file may be written. Every writer of the library (HDF5 results, models and checkpoints,
// CSV, IDX, corpora, fetched files) goes through output_target before it creates its temporary, so no
// program can replace something that is not a regular file.
//
// Policy:
// - `path` must name a regular file or nothing yet; a directory, a device (/dev/null), a FIFO or a socket
//   is refused with one line (the rename that publishes a finished file would replace it).
// - A symbolic link is written through: the file it points to (following every link) receives the new
//   bytes and the link itself is kept, as `cp` and shell redirection do. A link to a directory or a device
//   is refused like the thing it points to; a dangling link writes the file it names.
// - The directory that receives the file must exist and be writable.
#include <string>
#include <vector>

namespace moe {

// The path the bytes are written to: `path`, or the final target of the symbolic link at `path`.
// Throws moe::Error "cannot write PATH: ..." when the policy above refuses it.
std::string output_target(const std::string& path);

// Refuses (moe::Error) an output that is the same file as one of `inputs` (symbolic and hard links
// included; empty or missing inputs are skipped): "-o x.csv is the input file x.csv (--data)".
// `output_flag` and each input's flag name the flags in the message.
struct NamedPath {
  std::string flag, path;
};
void refuse_output_over_inputs(const NamedPath& output, const std::vector<NamedPath>& inputs);

}  // namespace moe
