//! The `voyager` binary: everything is in the library.

/// Counts the heap in use, so that `--max-memory` can turn runaway growth
/// into a runtime error instead of an abort.
#[global_allocator]
static ALLOCATOR: voyager::memory::Counting = voyager::memory::Counting;

fn main() -> std::process::ExitCode {
    ALLOCATOR.start();
    voyager::cli::start()
}
