//! Links the `voyager` executable as a non-PIE (position-dependent)
//! executable on x86_64 Linux.
//!
//! A PIE has to be relocated by the dynamic loader at every start: some
//! 28,000 relative relocations, and copy-on-write faults on the ~490 KB of
//! `.data.rel.ro` they write. That was about a third of `voyager run
//! hello.vy` (0.6 M of its instructions, ~0.8 ms of wall clock). Linked
//! with `-no-pie` (after rustc's own `-pie`, so it wins) the executable is
//! loaded at its link address and needs almost no relocation.
//!
//! The trade-off: the executable's own code and data are no longer placed
//! at a random address (ASLR); shared libraries, the heap and the stacks
//! still are. Only the binaries are linked this way (the library, tests and
//! proc macros are untouched), and only where it is known to work.
//! `VOYAGER_PIE=1` at build time keeps the default PIE.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VOYAGER_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let pie = std::env::var_os("VOYAGER_PIE").is_some_and(|v| v != "0" && !v.is_empty());
    if os == "linux" && arch == "x86_64" && env == "gnu" && !pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
