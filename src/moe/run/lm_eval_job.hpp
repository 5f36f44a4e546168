#pragma once
// moe-eval of a language model: the corpus (or synthetic language) of --data, tokenized with the model's
// tokenizer and encoded with its saved vocabulary (/model/target_names), all documents or one part of
// the document split (--part). The tokenizer, the context and, for a part, the split (fractions, seed,
// --max-documents) are the training run's, read from the model file (/model/data, or the root config text
// of a file written before it); a flag given for one of them must agree. Writes /eval/<name>
// (lm_results.hpp).
#include <optional>

#include "moe/io/data_record.hpp"
#include "moe/io/model_io.hpp"
#include "moe/run/eval_job.hpp"

namespace moe {

EvalJobResult run_lm_eval_job(const EvalJob& job, const SavedModel& saved, const std::optional<DataRecord>& record);

}  // namespace moe
