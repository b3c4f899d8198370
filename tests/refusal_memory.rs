//! A run too large for the machine is refused before anything large is allocated: a counting
//! allocator follows the live heap bytes, and the peak while `RunConfig::build` refuses each
//! absurd run stays under 16 MiB. The limit is set to what a 4 GiB machine allows (2 GiB), so
//! that the examples are all too large here, whatever this machine has.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use backprop_lab::data::DataSource;
use backprop_lab::data::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use backprop_lab::nn::{Activation, LayerSpec, Padding};
use backprop_lab::train::{Preset, RunConfig};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn allocated(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call goes to `System` unchanged; only the sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        allocated(new_size);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The most the heap may grow while a run is refused.
const SMALL: usize = 16 << 20;

/// The refusal of `config`, and the peak growth of the heap while `build` refused it.
fn refused(config: &RunConfig) -> (String, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let error = config.build().err().map(|e| e.to_string());
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (error.expect("refused"), peak)
}

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense {
        units,
        activation: Activation::Relu,
    }
}

fn mnist(preset: &str, hidden: Vec<LayerSpec>) -> RunConfig {
    let mut config = RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 1);
    let output = config.layers.pop().expect("an output layer");
    config.layers = [vec![LayerSpec::Flatten], hidden, vec![output]].concat();
    config
}

/// An MNIST-format folder whose training images are `count` pictures of `side` x `side`: the
/// headers say so (the pixels are never read, so they are not written).
fn folder_of_huge_images(dir: &std::path::Path, count: u32, side: u32) {
    let header = |magic: u32, dims: &[u32]| -> Vec<u8> {
        std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(u32::to_be_bytes)
            .collect()
    };
    let files = [
        (
            "train-images-idx3-ubyte",
            header(IMAGES_MAGIC, &[count, side, side]),
        ),
        ("train-labels-idx1-ubyte", header(LABELS_MAGIC, &[count])),
        (
            "t10k-images-idx3-ubyte",
            header(IMAGES_MAGIC, &[10, side, side]),
        ),
        ("t10k-labels-idx1-ubyte", header(LABELS_MAGIC, &[10])),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("written");
    }
}

#[test]
fn absurd_runs_are_refused_with_their_size_before_anything_large_is_allocated() {
    assert!(backprop_lab::train::cost::set_memory_limit(2 << 30));
    let conv = |filters| LayerSpec::Conv2d {
        filters,
        kernel: 3,
        padding: Padding::Same,
        activation: Activation::Relu,
    };
    let dir = tempfile::tempdir().expect("a folder");
    folder_of_huge_images(dir.path(), 1000, 2048);
    let mut huge_images = RunConfig::from_preset(&Preset::named("mnist-cnn").expect("a preset"), 1);
    huge_images.data = DataSource::IdxFolder {
        path: dir.path().to_path_buf(),
    };
    let mut huge_batch = mnist("mnist-mlp", vec![dense(128)]);
    huge_batch.settings.batch_size = 1_000_000;
    let cases = [
        (
            "100,000 units",
            mnist("mnist-mlp", vec![dense(100_000)]),
            "would need about 2.7 GiB of memory to train (79,500,010 parameters)",
        ),
        (
            "50 layers of 4,096",
            mnist("mnist-mlp", vec![dense(4096); 50]),
            "would need about 25.2 GiB of memory to train (825,540,618 parameters)",
        ),
        (
            "2,000,000,000 units",
            mnist("mnist-mlp", vec![dense(2_000_000_000)]),
            "would need about 51.7 TiB",
        ),
        (
            "a conv stack on a folder of huge images",
            huge_images,
            "would need about 790.8 GiB of memory to train (4,286,584,522 parameters)",
        ),
        (
            "a batch of 1,000,000",
            huge_batch,
            "batch size must be 1 to 65536",
        ),
        (
            "a conv stack of 256 filters on MNIST",
            {
                let mut config =
                    RunConfig::from_preset(&Preset::named("mnist-cnn").expect("a preset"), 1);
                config
                    .layers
                    .splice(0..0, [conv(256), conv(256), conv(256)]);
                config
            },
            "would need about 11.5 GiB of memory to train (1,950,122 parameters)",
        ),
    ];
    for (name, config, message) in cases {
        let (error, peak) = refused(&config);
        assert!(error.contains(message), "{name}: {error}");
        assert!(
            peak < SMALL,
            "{name}: the heap grew by {peak} bytes while refusing"
        );
        println!("{name}: refused with {peak} bytes allocated at most: {error}");
    }
}
