//! The memory limit: how much heap the process may use before growing a
//! value is a runtime error (`E0211`) instead of an abort.
//!
//! The `voyager` binary installs [`Counting`] as its global allocator, which
//! keeps a running total of the bytes in use. The interpreter checks the
//! total where programs grow without bound — on every loop iteration and
//! call (with the instruction budget), and before joining two strings or
//! lists — so a runaway string, list or queue ends in an error with a code,
//! and the item becomes a dead letter. A program that embeds the library
//! without the allocator has no limit: [`in_use`] then reports nothing.
//!
//! The limit is process-wide, as the allocator is: [`set_limit`]. Each
//! thread passes its count on in steps of 64 KiB, so the total is that
//! close per thread.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// What [`Counting`] allocates with (see `Cargo.toml` for why).
use mimalloc::MiMalloc as Inner;

/// Bytes in use, as far as the threads have passed on their counts (one
/// thread may have freed what another allocated, so it may dip below 0).
static IN_USE: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// This thread's count not yet added to [`IN_USE`].
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// How far a thread's own count may drift before it is passed on.
const SLACK: isize = 64 << 10;

/// Adds `delta` bytes to the count. Each thread keeps its own tally and
/// adds it to the shared total once it passes [`SLACK`]: an atomic add on
/// every allocation and free is a locked instruction, a barrier that held
/// up the allocation-heavy engine loop.
#[inline]
fn count(delta: isize) {
    // A `const` thread-local without a destructor is there for the whole
    // life of the thread, its teardown included.
    PENDING.with(|p| {
        let v = p.get() + delta;
        if (-SLACK..SLACK).contains(&v) {
            p.set(v);
        } else {
            p.set(0);
            IN_USE.fetch_add(v, Relaxed);
        }
    });
}
static COUNTING: AtomicBool = AtomicBool::new(false);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// mimalloc, counting the bytes in use.
pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (that is, from `Inner`)
        // with this layout.
        unsafe { Inner.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

impl Counting {
    /// Turns the count on; the binary calls this first thing.
    pub fn start(&self) {
        COUNTING.store(true, Relaxed);
    }
}

/// Bytes of heap in use, when the counting allocator is installed.
pub fn in_use() -> Option<usize> {
    COUNTING
        .load(Relaxed)
        .then(|| IN_USE.load(Relaxed).max(0) as usize)
}

/// Sets the limit in bytes (`None`: no limit).
pub fn set_limit(bytes: Option<usize>) {
    LIMIT.store(bytes.unwrap_or(usize::MAX), Relaxed);
}

/// The limit in bytes, if one is set.
pub fn limit() -> Option<usize> {
    let limit = LIMIT.load(Relaxed);
    (limit != usize::MAX).then_some(limit)
}

/// Whether `more` bytes on top of what is in use would pass the limit
/// (never, without the counting allocator).
#[inline]
pub fn exceeded(more: usize) -> bool {
    let limit = LIMIT.load(Relaxed);
    limit != usize::MAX && (IN_USE.load(Relaxed).max(0) as usize).saturating_add(more) > limit
}

/// The default limit: half of the machine's physical memory (4 GiB where
/// it cannot be read).
pub fn default_limit() -> usize {
    // SAFETY: sysconf only reads system configuration.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        (pages as usize).saturating_mul(size as usize) / 2
    } else {
        4 << 30
    }
}
