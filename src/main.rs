//! The `voyager` binary: everything is in the library.
//!
//! On Linux with glibc, `main` is the C entry point (`no_main`): Rust's own
//! start-up reads `/proc/self/maps` to place the main thread's stack guard,
//! a tenth of the instructions of `voyager run hello.vy`, and the work runs
//! on a stack of its own anyway ([`voyager::cli::start`]). What of that
//! start-up a command-line program needs is done in
//! [`voyager::cli::prepare_process`]. (glibc hands a program its arguments
//! before `main`, so `std::env::args` works without Rust's start-up; other
//! targets keep it.)
#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

/// Counts the heap in use, so that `--max-memory` can turn runaway growth
/// into a runtime error instead of an abort.
#[global_allocator]
static ALLOCATOR: voyager::memory::Counting = voyager::memory::Counting;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    ALLOCATOR.start();
    // SAFETY: called once, first, before any other thread exists.
    unsafe { voyager::cli::prepare_process() };
    // `exit` flushes standard output, as returning from a Rust `main` does.
    std::process::exit(i32::from(voyager::cli::start()))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() -> std::process::ExitCode {
    ALLOCATOR.start();
    std::process::ExitCode::from(voyager::cli::start())
}
