//! The `voyager` binary: everything is in the library.
//!
//! `main` is the C entry point (`no_main`): Rust's own start-up reads
//! `/proc/self/maps` to place the main thread's stack guard, a tenth of the
//! instructions of `voyager run hello.vy`, and the work runs on a stack of
//! its own anyway ([`voyager::cli::start`]). The two things of that start-up
//! that a command-line program needs are done here: standard streams that
//! are closed are opened on `/dev/null` (so that a file opened later does
//! not become standard output), and SIGPIPE is ignored (so that a closed
//! pipe is an error to report, status 141, not a silent death).
#![no_main]

use std::ffi::{c_char, c_int};

/// Counts the heap in use, so that `--max-memory` can turn runaway growth
/// into a runtime error instead of an abort.
#[global_allocator]
static ALLOCATOR: voyager::memory::Counting = voyager::memory::Counting;

#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    ALLOCATOR.start();
    // SAFETY: called once, first, before any other thread exists.
    unsafe { voyager::cli::prepare_process() };
    // `exit` flushes standard output, as returning from a Rust `main` does.
    std::process::exit(i32::from(voyager::cli::start()))
}
