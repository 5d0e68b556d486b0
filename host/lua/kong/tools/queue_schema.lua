-- kong.tools.queue_schema: the queue settings record shared by plugins that
-- batch their work (typedefs.queue), as in Kong 3.3+.

local Schema = require "kong.db.schema"

return Schema.define {
  type = "record",
  fields = {
    { max_batch_size = {
        type = "integer", default = 1, between = { 1, 1000000 },
        description = "How many entries are handed to the handler at most at once.",
    } },
    { max_coalescing_delay = {
        type = "number", default = 1, between = { 0, 3600 },
        description = "Seconds to wait after the first queued entry before the handler runs.",
    } },
    { max_entries = {
        type = "integer", default = 10000, between = { 1, 1000000 },
        description = "How many entries may wait in the queue at most.",
    } },
    { max_bytes = {
        type = "integer",
        description = "How many bytes may wait in the queue at most (string entries only).",
    } },
    { max_retry_time = {
        type = "number", default = 60,
        description = "Seconds after which a failing batch is dropped.",
    } },
    { initial_retry_delay = {
        type = "number", default = 0.01, between = { 0.001, 1000000 },
        description = "Seconds before the first retry of a failing batch.",
    } },
    { max_retry_delay = {
        type = "number", default = 60, between = { 0.001, 1000000 },
        description = "Upper bound, in seconds, of the doubling delay between retries.",
    } },
    { concurrency_limit = {
        type = "integer", default = 1, one_of = { -1, 1 },
        description = "Number of delivery timers; -1 means unlimited.",
    } },
  },
}
