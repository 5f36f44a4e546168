#pragma once
// moe-eval of a language model: the corpus (or synthetic language) of --data, tokenized with the model's
// tokenizer and encoded with its saved vocabulary (/model/target_names), all documents or one part of
// the document split (--part; --split-seed S reproduces the split of `moe-train --seed S` or
// `--split-seed S` with the same fractions and --max-documents); writes /eval/<name> (lm_results.hpp).
#include "moe/io/model_io.hpp"
#include "moe/run/eval_job.hpp"

namespace moe {

EvalJobResult run_lm_eval_job(const EvalJob& job, const SavedModel& saved);

}  // namespace moe
