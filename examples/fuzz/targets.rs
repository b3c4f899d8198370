//! Every parser of outside bytes as a fuzz target, each seeded with real files of its kind: the
//! embedded MNIST subset's IDX files, models and runs the program saves, digits as PNG and JPEG,
//! saved preferences, and lessons.

use std::io::Write;
use std::path::Path;

use backprop_lab::data::{digit_image, mnist};
use backprop_lab::io::lessons::built_in;
use backprop_lab::io::{Lesson, ModelFile, RunFile, TrainingRecord, model_file, safetensors_model};
use backprop_lab::train::controls::{Control, Hidden};
use backprop_lab::train::{Preset, RunConfig, Trainer};
use backprop_lab::ui::pins::Pin;

use super::memory_storage::MemoryStorage;
use super::mutate::Target;

/// Where messages say the fuzzed bytes came from.
const NAME: &str = "fuzzed";

/// The parsers, by name.
pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "idx",
            seeds: idx_seeds,
            run: idx,
        },
        Target {
            name: "model-json",
            seeds: model_json_seeds,
            run: model,
        },
        Target {
            name: "model-safetensors",
            seeds: model_safetensors_seeds,
            run: model,
        },
        Target {
            name: "run",
            seeds: run_seeds,
            run,
        },
        Target {
            name: "picture",
            seeds: picture_seeds,
            run: picture,
        },
        Target {
            name: "preferences",
            seeds: preferences_seeds,
            run: preferences,
        },
        Target {
            name: "lesson",
            seeds: lesson_seeds,
            run: lesson,
        },
    ]
}

/// A lesson file or pasted setup, read and checked as the app opens one.
fn lesson(input: &[u8]) -> bool {
    Lesson::from_bytes(input, NAME)
        .is_ok_and(|lesson| lesson.check_views(&backprop_lab::ui::views::ids()).is_ok())
}

/// The built-in lessons and a setup with hidden controls.
fn lesson_seeds() -> Vec<Vec<u8>> {
    let xor = RunConfig::from_preset(&Preset::named("xor").expect("xor"), 42);
    let hidden = Hidden::of([Control::Optimizer, Control::LearningRate]);
    let setup = Lesson::setup("A setup", xor, vec!["curves".into()], hidden);
    std::iter::once(setup)
        .chain(built_in())
        .map(|lesson| lesson.to_json().into_bytes())
        .collect()
}

/// The four IDX files of a dataset in one input: each a little-endian u32 length, then its bytes
/// (a length past the end takes what is left).
fn idx(input: &[u8]) -> bool {
    let mut rest = input;
    let mut files: [&[u8]; 4] = [&[]; 4];
    for file in &mut files {
        let (length, tail) = rest.split_at(rest.len().min(4));
        let mut word = [0u8; 4];
        word[..length.len()].copy_from_slice(length);
        let (bytes, tail) = tail.split_at((u32::from_le_bytes(word) as usize).min(tail.len()));
        *file = bytes;
        rest = tail;
    }
    let [a, b, c, d] = files;
    mnist::from_idx_bytes(NAME, [("a", a), ("b", b), ("c", c), ("d", d)]).is_ok()
}

/// The first `count` images and labels of the embedded subset's test split, raw or gzipped.
fn idx_seeds() -> Vec<Vec<u8>> {
    let unzip = |bytes: &[u8]| {
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut raw)
            .expect("the embedded IDX files are gzip");
        raw
    };
    let images = unzip(include_bytes!(
        "../../assets/mnist/t10k-images-idx3-ubyte.gz"
    ));
    let labels = unzip(include_bytes!(
        "../../assets/mnist/t10k-labels-idx1-ubyte.gz"
    ));
    let first = |raw: &[u8], header: usize, item: usize, count: usize| {
        let mut file = raw[..header + item * count].to_vec();
        file[4..8].copy_from_slice(&(count as u32).to_be_bytes());
        file
    };
    let gzip = |raw: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(raw).expect("gzip into memory");
        encoder.finish().expect("gzip into memory")
    };
    let dataset = |files: [Vec<u8>; 4]| {
        files.iter().fold(Vec::new(), |mut input, file| {
            input.extend((file.len() as u32).to_le_bytes());
            input.extend(file);
            input
        })
    };
    let (train_images, train_labels) = (first(&images, 16, 784, 3), first(&labels, 8, 1, 3));
    let (test_images, test_labels) = (first(&images, 16, 784, 2), first(&labels, 8, 1, 2));
    vec![
        dataset([
            train_images.clone(),
            train_labels.clone(),
            test_images.clone(),
            test_labels.clone(),
        ]),
        dataset([
            gzip(&train_images),
            gzip(&train_labels),
            gzip(&test_images),
            gzip(&test_labels),
        ]),
    ]
}

/// A model file in either format; safetensors without metadata take the xor architecture.
fn model(input: &[u8]) -> bool {
    let xor = xor_config();
    let fallback = (xor.data.shape().0, xor.layers.as_slice());
    model_file::from_bytes(input, Path::new(NAME), Some(fallback)).is_ok()
}

fn xor_config() -> RunConfig {
    RunConfig::from_preset(&Preset::named("xor").expect("the xor preset"), 7)
}

/// A run of `preset` after a few steps.
fn trained(preset: &str) -> (RunConfig, Trainer) {
    let config = RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 3);
    let mut trainer = config.build().expect("a preset builds");
    for _ in 0..5 {
        trainer.train_batch().expect("a preset trains");
    }
    (config, trainer)
}

/// Saves with `save` into a temporary file and returns the bytes.
fn saved(save: impl FnOnce(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("seed");
    save(&path);
    std::fs::read(&path).expect("the saved seed")
}

fn model_json_seeds() -> Vec<Vec<u8>> {
    ["xor", "circle"]
        .map(|preset| {
            let (config, trainer) = trained(preset);
            saved(|path| {
                ModelFile::new(trainer.network(), TrainingRecord::of(&config, &trainer))
                    .save(path)
                    .expect("the model saves");
            })
        })
        .to_vec()
}

fn model_safetensors_seeds() -> Vec<Vec<u8>> {
    let (config, trainer) = trained("xor");
    let with_record = saved(|path| {
        safetensors_model::save(
            trainer.network(),
            Some(&TrainingRecord::of(&config, &trainer)),
            path,
        )
        .expect("the model saves");
    });
    let weights_only = saved(|path| {
        safetensors_model::save(trainer.network(), None, path).expect("the model saves");
    });
    vec![with_record, weights_only]
}

/// A run file, resumed as the app opens one (data rebuilt, state taken up, curves pinned).
fn run(input: &[u8]) -> bool {
    let Ok(run) = RunFile::from_bytes(input, Path::new(NAME)) else {
        return false;
    };
    if let Some(history) = &run.history {
        Pin::from_history(NAME.into(), history);
    }
    run.resume(Path::new(NAME)).is_ok()
}

fn run_seeds() -> Vec<Vec<u8>> {
    ["xor", "spiral"]
        .map(|preset| {
            let (config, trainer) = trained(preset);
            saved(|path| {
                RunFile::new(&config, &trainer)
                    .save(path)
                    .expect("the run saves");
            })
        })
        .to_vec()
}

/// Accepted pictures larger than this run but do not join the corpus: mutants of a 50-megapixel
/// picture take seconds each, and a corpus of them slows the fuzzer a hundredfold without reaching
/// new code (the size checks are the same for every size).
const CORPUS_MAX_PIXELS: usize = 1_000_000;

/// A picture through the whole digit pipeline: decoded, its ink found, made a 28x28 input.
fn picture(input: &[u8]) -> bool {
    digit_image::decode(input, Path::new(NAME))
        .and_then(|image| digit_image::from_picture(&image).map(|_| image))
        .is_ok_and(|image| image.pixels.len() <= CORPUS_MAX_PIXELS)
}

/// A test digit as grey PNG, RGBA PNG (ink in alpha) and JPEG.
fn picture_seeds() -> Vec<Vec<u8>> {
    let data = mnist::embedded_subset().expect("the embedded subset");
    let digit: Vec<u8> = data
        .test
        .inputs
        .row(0)
        .iter()
        .map(|&v| 255 - (v * 255.0) as u8)
        .collect();
    let grey = image::GrayImage::from_raw(28, 28, digit.clone()).expect("28x28");
    let alpha = image::RgbaImage::from_fn(28, 28, |x, y| {
        image::Rgba([255, 255, 255, 255 - digit[(y * 28 + x) as usize]])
    });
    let encode = |image: image::DynamicImage, format| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).expect("encode");
        bytes.into_inner()
    };
    vec![
        encode(grey.clone().into(), image::ImageFormat::Png),
        encode(alpha.into(), image::ImageFormat::Png),
        encode(grey.into(), image::ImageFormat::Jpeg),
    ]
}

/// The preferences as eframe keeps them, read as the app reads them at start-up.
fn preferences(input: &[u8]) -> bool {
    let mut storage = MemoryStorage::default();
    eframe::Storage::set_string(
        &mut storage,
        backprop_lab::ui::PREFERENCES_KEY,
        String::from_utf8_lossy(input).into_owned(),
    );
    let (_, note) = backprop_lab::ui::startup_preferences(Some(&storage));
    note.is_none()
}

fn preferences_seeds() -> Vec<Vec<u8>> {
    let mut changed = backprop_lab::ui::Preferences {
        config: RunConfig::from_preset(&Preset::named("mnist-cnn").expect("a preset"), 9),
        ..Default::default()
    };
    changed.views.push("histograms".into());
    changed.recent.push("/tmp/a run.json".into());
    [backprop_lab::ui::Preferences::default(), changed]
        .iter()
        .map(|preferences| {
            let mut storage = MemoryStorage::default();
            eframe::set_value(&mut storage, backprop_lab::ui::PREFERENCES_KEY, preferences);
            storage
                .0
                .remove(backprop_lab::ui::PREFERENCES_KEY)
                .expect("just set")
                .into_bytes()
        })
        .collect()
}
