//! A mutation fuzzer on stable Rust: inputs are real files changed a few bytes at a time (bits
//! flipped, bytes and integers set to edge values, ranges deleted, repeated or spliced from another
//! file, numbers in text swapped for extreme ones), each run through a target under
//! `catch_unwind`. Mutants the target accepts join the corpus, so later mutations reach past the
//! first checks. Deterministic for a given seed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// xorshift64*: small, fast and good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const EDGE_BYTES: &[u8] = b"\x00\x01\x7f\x80\xff09-.e\"{}[],: ";
const EDGE_INTEGERS: &[u64] = &[
    0,
    1,
    2,
    0x7f,
    0xff,
    0x7fff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    u64::MAX / 2,
    u64::MAX,
];
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1e309",
    "-1e309",
    "NaN",
    "1e-45",
    "3.5e38",
    "4294967296",
    "18446744073709551616",
    "99999999999",
    "1000000",
    "2000000000",
];

/// Changes `input` by 1 to 8 stacked mutations; `others` are files to splice from.
pub fn mutate(input: &mut Vec<u8>, rng: &mut Rng, others: &[Vec<u8>], max_len: usize) {
    let count = 1 + rng.below(8).min(rng.below(8));
    for _ in 0..count {
        mutate_once(input, rng, others);
    }
    input.truncate(max_len);
}

fn mutate_once(input: &mut Vec<u8>, rng: &mut Rng, others: &[Vec<u8>]) {
    let len = input.len();
    let at = rng.below(len + 1);
    match rng.below(9) {
        0 if len > 0 => input[at.min(len - 1)] ^= 1 << rng.below(8),
        1 if len > 0 => input[at.min(len - 1)] = EDGE_BYTES[rng.below(EDGE_BYTES.len())],
        2 if len > 0 => {
            let end = (at + 1 + rng.below(16)).min(len);
            input.drain(at.min(len - 1)..end);
        }
        3 => {
            let bytes: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
            input.splice(at..at, bytes);
        }
        4 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            let copy = input[start..end].to_vec();
            input.splice(at..at, copy);
        }
        5 => {
            let value = EDGE_INTEGERS[rng.below(EDGE_INTEGERS.len())];
            let width = if rng.below(2) == 0 { 4 } else { 8 };
            let bytes = match (width, rng.below(2)) {
                (4, 0) => (value as u32).to_be_bytes().to_vec(),
                (4, _) => (value as u32).to_le_bytes().to_vec(),
                (_, 0) => value.to_be_bytes().to_vec(),
                _ => value.to_le_bytes().to_vec(),
            };
            let end = (at + width).min(len);
            input.splice(at..end, bytes);
        }
        6 => replace_number(input, at, EDGE_NUMBERS[rng.below(EDGE_NUMBERS.len())]),
        7 if !others.is_empty() => {
            let other = &others[rng.below(others.len())];
            if !other.is_empty() {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(256)).min(other.len());
                let replace_to = if rng.below(2) == 0 {
                    at
                } else {
                    (at + end - start).min(len)
                };
                input.splice(at..replace_to, other[start..end].iter().copied());
            }
        }
        8 => input.truncate(at),
        _ => {}
    }
}

/// Replaces the run of ASCII digits at or after `at` (if any within 64 bytes) with `number`.
fn replace_number(input: &mut Vec<u8>, at: usize, number: &str) {
    let Some(start) = (at..input.len().min(at + 64)).find(|&i| input[i].is_ascii_digit()) else {
        return;
    };
    let end = (start..input.len())
        .find(|&i| !input[i].is_ascii_digit())
        .unwrap_or(input.len());
    input.splice(start..end, number.bytes());
}

/// A parser under test: its seed files and how to run one input through it.
pub struct Target {
    pub name: &'static str,
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Runs one input; true if the parser accepted it (a message for a refusal is false) and it
    /// should join the corpus.
    pub run: fn(&[u8]) -> bool,
}

/// An input that panicked, with the panic's message.
pub struct Crash {
    pub input: Vec<u8>,
    pub message: String,
}

/// What a fuzzing run did.
pub struct Report {
    pub executions: u64,
    pub accepted: u64,
    pub crashes: Vec<Crash>,
    pub elapsed: Duration,
    /// The slowest single execution and its input's length.
    pub slowest: (Duration, usize),
}

/// When a run stops: after so many executions or so much time, whichever comes first.
#[derive(Clone, Copy)]
pub struct Budget {
    pub executions: u64,
    pub time: Duration,
}

/// The most a kept mutant may grow to, as a multiple of the largest seed.
const MAX_GROWTH: usize = 2;
/// How many accepted mutants the corpus keeps besides the seeds.
const CORPUS: usize = 256;

/// Fuzzes `target` from `seed` until `budget` is spent. Panics are caught and reported, the panic
/// hook is silenced meanwhile; `on_input` sees every input before it runs (the allocation guard
/// keeps it, to name the input that asked for too much).
pub fn fuzz(target: &Target, seed: u64, budget: Budget, on_input: &dyn Fn(&[u8])) -> Report {
    let seeds = (target.seeds)();
    let max_len = seeds.iter().map(Vec::len).max().unwrap_or(64).max(64) * MAX_GROWTH;
    let mut corpus: Vec<Vec<u8>> = seeds.clone();
    let mut rng = Rng::new(seed);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut report = Report {
        executions: 0,
        accepted: 0,
        crashes: Vec::new(),
        elapsed: Duration::ZERO,
        slowest: (Duration::ZERO, 0),
    };
    while report.executions < budget.executions
        && (!report.executions.is_multiple_of(64) || start.elapsed() < budget.time)
    {
        let mut input = corpus[rng.below(corpus.len())].clone();
        // one input in 16 is a seed as it is, so every seed runs unmutated too
        if !report.executions.is_multiple_of(16) {
            mutate(&mut input, &mut rng, &seeds, max_len);
        }
        on_input(&input);
        let began = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        let took = began.elapsed();
        if took > report.slowest.0 {
            report.slowest = (took, input.len());
        }
        report.executions += 1;
        match outcome {
            Ok(true) => {
                report.accepted += 1;
                if corpus.len() < seeds.len() + CORPUS {
                    corpus.push(input);
                } else {
                    let slot = seeds.len() + rng.below(CORPUS);
                    corpus[slot] = input;
                }
            }
            Ok(false) => {}
            Err(payload) => {
                let message = backprop_lab::train::worker::panic_message(payload.as_ref());
                report.crashes.push(Crash { input, message });
            }
        }
    }
    report.elapsed = start.elapsed();
    std::panic::set_hook(hook);
    report
}
