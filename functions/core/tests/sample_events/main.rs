//! Every sample under `events/` is valid for what it claims to be, and every file there is checked
//! by one of these tests (`every_sample_is_covered` fails on a sample nobody asserts on).

mod console;
mod eventbridge;
mod functions;
mod samples;
