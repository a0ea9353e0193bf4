//! The `voyager` binary: everything is in the library.

fn main() -> std::process::ExitCode {
    voyager::cli::start()
}
