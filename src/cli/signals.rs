//! SIGINT and SIGTERM during `voyager run`: the first asks the engine to
//! stop (between steps; running commands are ended and the unfinished work
//! is reported and saved); a second SIGINT exits at once.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

/// The first signal received (0: none yet).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The engine's interrupt flag, set by the handler.
static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The exit status after a signal: 128 plus its number (130 for SIGINT,
/// 143 for SIGTERM).
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(1)
}

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: atomics, and _exit.
    let first = RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    if first.is_err() && signal == libc::SIGINT {
        // SAFETY: _exit is async-signal-safe; a second Ctrl-C means now.
        unsafe { libc::_exit(i32::from(exit_status(signal))) }
    }
    if let Some(flag) = FLAG.get() {
        flag.store(true, Ordering::SeqCst);
    }
}

/// Installs the handlers; returns the flag they set.
pub fn install() -> Arc<AtomicBool> {
    let flag = FLAG
        .get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        handle(signal, on_signal, libc::SA_RESTART);
    }
    flag
}

/// Installs `handler` for `signal`, with `flags` and an empty mask. The
/// handler must do only async-signal-safe work.
pub fn handle(signal: libc::c_int, handler: extern "C" fn(libc::c_int), flags: libc::c_int) {
    // SAFETY: a zeroed sigaction with the handler, the flags and an empty
    // mask; the caller's handler is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as usize;
        action.sa_flags = flags;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// The signal that stopped the run, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
