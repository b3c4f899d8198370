//! The system allocator, refusing any single allocation over [`LIMIT`]: a parser that believes a
//! header's size would otherwise take the machine's memory. The refusal prints the input being
//! fuzzed (in hex, so it can be made a regression test) before Rust aborts on the failed
//! allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// The largest single allocation a parser may make while fuzzed.
pub const LIMIT: usize = 1 << 30;

static INPUT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static INPUT_LEN: AtomicUsize = AtomicUsize::new(0);

/// Remembers the input about to run (it stays alive until the next one).
pub fn watch(input: &[u8]) {
    INPUT.store(input.as_ptr().cast_mut(), Ordering::Relaxed);
    INPUT_LEN.store(input.len(), Ordering::Relaxed);
}

/// Prints the refused size and the input, without allocating.
fn report(size: usize) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "fuzz: refused an allocation of {size} bytes (over {LIMIT}); the input, in hex:"
    );
    let (pointer, len) = (
        INPUT.load(Ordering::Relaxed),
        INPUT_LEN.load(Ordering::Relaxed),
    );
    if !pointer.is_null() {
        // SAFETY: `watch` stored a live slice; the fuzzer keeps it alive while it runs.
        let input = unsafe { std::slice::from_raw_parts(pointer, len) };
        for byte in input {
            let _ = write!(err, "{byte:02x}");
        }
    }
    let _ = writeln!(err);
}

pub struct Guard;

// SAFETY: every call is passed on to `System` unchanged, or refused with a null pointer, which
// `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT {
            report(layout.size());
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT {
            report(layout.size());
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > LIMIT {
            report(new_size);
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}
