//! The `backprop-lab` command line: every figure the app shows, reproducible without a window.

mod bench;
mod code;
mod evaluate;
mod step_through;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::nn::{Loss, Optimizer};
use crate::train::{SettingChange, TrainSettings};

#[derive(Debug, Parser)]
#[command(
    name = "backprop-lab",
    version,
    about = "Watch a neural network learn, and look inside it while it does",
    // the app's own flags (--preset, --lr, ...) before a command would be silently ignored
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no command: open the app on this preset instead of the last run.
    #[arg(long)]
    preset: Option<String>,
    /// With no command: start training as soon as the window opens.
    #[arg(long)]
    play: bool,
    /// With no command: append one JSON line per second to this file (frame times, samples/s).
    #[arg(long)]
    perf_log: Option<PathBuf>,
    /// With no command: the views to open, comma-separated (default: those open last time).
    #[arg(long, value_delimiter = ',', value_parser = view_ids())]
    views: Vec<String>,
    /// With no command: open in Present mode (the panels away, a large toolbar; Esc leaves).
    #[arg(long)]
    present: bool,
    /// With no command: open this lesson file, or built-in lesson N (1 to 7); Page Down plays
    /// its steps.
    #[arg(long)]
    lesson: Option<PathBuf>,
    /// With no command: train at full speed on the small 2-D sets too (they start at a pace a
    /// class can follow).
    #[arg(long)]
    full_speed: bool,
    /// With no command and --preset: start with these settings instead of the preset's.
    #[command(flatten)]
    settings: SettingsArgs,
    /// With no command and --preset: pause after this many epochs (default: the preset's).
    #[arg(long)]
    epochs: Option<usize>,
}

/// The ids `--views` takes: every registered view.
fn view_ids() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::ui::views::ids())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a preset and print one line per epoch (loss, accuracy, test loss, test accuracy).
    Train(TrainArgs),
    /// Loss and accuracy of a saved model on the test split.
    Eval(EvalArgs),
    /// Classify images of digits (PNG or JPEG, any size, any colours) with a saved model.
    Classify(ClassifyArgs),
    /// Steady training throughput of mnist-mlp (batch 64) and mnist-cnn (batch 32) with Adam.
    Bench(BenchArgs),
    /// Trace training steps phase by phase: every layer's input, z, a, gradients, weights
    /// before and after, and the optimizer's state (JSON with --json).
    StepThrough(StepThroughArgs),
    /// List the presets.
    Presets,
    /// Print the model and its training settings as runnable PyTorch or Keras code.
    Code(CodeArgs),
    /// Convert a model file to safetensors (readable by PyTorch as it is).
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
pub struct CodeArgs {
    /// A model file (its architecture and settings).
    #[arg(long, required_unless_present = "preset", conflicts_with = "preset")]
    model: Option<PathBuf>,
    /// A preset (its architecture and settings).
    #[arg(long)]
    preset: Option<String>,
    /// Which framework's code.
    #[arg(long, value_enum, default_value = "pytorch")]
    framework: FrameworkArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FrameworkArg {
    Pytorch,
    Keras,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The model to read (JSON or safetensors).
    input: PathBuf,
    /// The safetensors file to write.
    output: PathBuf,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Preset to train (see `backprop-lab presets`).
    #[arg(long, required_unless_present = "resume")]
    preset: Option<String>,
    /// Epochs to train (default: the preset's); with --resume, the epochs in total.
    #[arg(long)]
    epochs: Option<usize>,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Seed of the weights, the shuffling, dropout and generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder with MNIST-format IDX files to use instead of the embedded subset.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Save the trained model to this file (JSON).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Save the whole run at the end (weights, optimizer state, data order, generator), to go on
    /// later with --resume exactly as if it had never stopped.
    #[arg(long)]
    save_run: Option<PathBuf>,
    /// Start from the weights of this model file (safetensors or JSON; a state dict without
    /// metadata must have the preset's architecture).
    #[arg(long, conflicts_with = "resume")]
    init: Option<PathBuf>,
    /// Go on with a saved run (its data, layers, settings and seed) up to --epochs in total.
    #[arg(long, conflicts_with_all = ["preset", "data", "seed", "batch_size", "lr", "optimizer", "loss", "l2"])]
    resume: Option<PathBuf>,
    /// Write one CSV row per training step: step, epoch, loss, and the test loss and accuracy
    /// on each epoch's last step, and a setting change made before the step.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Print one JSON object per epoch on stdout, and nothing else there.
    #[arg(long)]
    json: bool,
}

/// The training settings a command can set; each defaults to the preset's.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Samples per mini-batch (default: the preset's).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate (default: the preset's).
    #[arg(long)]
    lr: Option<f32>,
    /// Optimizer (default: the preset's).
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerArg>,
    /// Loss (default: the preset's).
    #[arg(long, value_enum)]
    loss: Option<LossArg>,
    /// L2 weight decay lambda (default: the preset's).
    #[arg(long)]
    l2: Option<f32>,
}

impl SettingsArgs {
    /// No setting was given.
    fn is_empty(&self) -> bool {
        self.loss.is_none()
            && self.optimizer.is_none()
            && self.lr.is_none()
            && self.batch_size.is_none()
            && self.l2.is_none()
    }

    /// `settings` with every setting given on the command line.
    fn apply(&self, settings: TrainSettings) -> TrainSettings {
        [
            self.loss.map(|l| SettingChange::Loss(l.into())),
            self.optimizer.map(|o| SettingChange::Optimizer(o.into())),
            self.lr.map(SettingChange::LearningRate),
            self.batch_size.map(SettingChange::BatchSize),
            self.l2.map(SettingChange::WeightDecay),
        ]
        .into_iter()
        .flatten()
        .fold(settings, TrainSettings::with)
    }
}

#[derive(Debug, Args)]
pub struct StepThroughArgs {
    /// The preset to trace (see `presets`).
    #[arg(long)]
    preset: String,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Seed of the weights, the shuffling, dropout and generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train on this training sample alone (a batch of one), `--steps` times; without it, the
    /// run's real mini-batches in training order.
    #[arg(long)]
    sample: Option<usize>,
    /// Training steps to trace.
    #[arg(long, default_value_t = 1)]
    steps: usize,
    /// One JSON object per step with every number the trainer used (see the README).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file: safetensors (saved by `train --save`, or a PyTorch state dict) or JSON.
    #[arg(long)]
    model: PathBuf,
    /// The architecture (and data) of a state dict saved without Backprop Lab's metadata.
    #[arg(long)]
    preset: Option<String>,
    /// Folder with MNIST-format IDX files (default: the data the model was trained on).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print {"accuracy": .., "loss": .., "samples": ..}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Model file whose input is a 28x28 image (safetensors or JSON).
    #[arg(long)]
    model: PathBuf,
    /// The architecture of a state dict saved without Backprop Lab's metadata.
    #[arg(long)]
    preset: Option<String>,
    /// Image files (PNG or JPEG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// One JSON object per image: {"file": .., "prediction": .., "probabilities": [..]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Epochs measured after the warm-up epoch, per model.
    #[arg(long, default_value_t = 2)]
    epochs: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OptimizerArg {
    Sgd,
    Momentum,
    Adam,
}

impl From<OptimizerArg> for Optimizer {
    fn from(arg: OptimizerArg) -> Self {
        match arg {
            OptimizerArg::Sgd => Optimizer::Sgd,
            OptimizerArg::Momentum => Optimizer::MOMENTUM,
            OptimizerArg::Adam => Optimizer::ADAM,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LossArg {
    Mse,
    CrossEntropy,
}

impl From<LossArg> for Loss {
    fn from(arg: LossArg) -> Self {
        match arg {
            LossArg::Mse => Loss::Mse,
            LossArg::CrossEntropy => Loss::CrossEntropy,
        }
    }
}

/// The preset called `name`, or an error that lists them all.
fn preset_named(name: &str) -> anyhow::Result<crate::train::Preset> {
    crate::train::Preset::named(name).ok_or_else(|| {
        let names: Vec<_> = crate::train::presets().iter().map(|p| p.name).collect();
        anyhow::anyhow!(
            "no preset named \"{name}\"; the presets are {}",
            names.join(", ")
        )
    })
}

/// The run the app opens with settings or a run length given on the command line: the
/// preset's with them (seed 42, as `train`); none without any.
fn launch_config(
    preset: Option<&str>,
    settings: &SettingsArgs,
    epochs: Option<usize>,
) -> anyhow::Result<Option<crate::train::RunConfig>> {
    if settings.is_empty() && epochs.is_none() {
        return Ok(None);
    }
    let Some(name) = preset else {
        anyhow::bail!(
            "training settings on the command line need --preset, to say what they change"
        );
    };
    let preset = preset_named(name)?;
    let mut config = crate::train::RunConfig::from_preset(&preset, 42);
    config.settings = settings.apply(config.settings);
    config.epochs = epochs.or(config.epochs);
    crate::ui::validate(&config).map_err(anyhow::Error::msg)?;
    Ok(Some(config))
}

/// A model file in either format; a state dict without metadata takes `preset`'s
/// architecture. With the data it was trained on and its loss (the preset's when unknown).
fn open_model(
    path: &std::path::Path,
    preset: Option<&str>,
) -> anyhow::Result<(crate::nn::Network, crate::data::DataSource, crate::nn::Loss)> {
    let preset = preset.map(preset_named).transpose()?;
    let fallback = match &preset {
        Some(preset) => {
            let input = preset.data.shape().0;
            Some((input, preset.layers.as_slice()))
        }
        None => None,
    };
    let (network, training) = crate::io::load_any(path, fallback)?;
    match (training, preset) {
        (Some(training), _) => Ok((network, training.data, training.settings.loss)),
        (None, Some(preset)) => Ok((network, preset.data_source(42), preset.settings.loss)),
        (None, None) => anyhow::bail!("{}: no training record to say which data", path.display()),
    }
}

/// Opens the desktop window.
fn open_app(launch: crate::ui::Launch) -> anyhow::Result<()> {
    if let Some(name) = &launch.preset {
        preset_named(name)?;
    }
    crate::ui::run(launch).map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// Parses the arguments and runs the command; errors become a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            launch_config(cli.preset.as_deref(), &cli.settings, cli.epochs).and_then(|config| {
                open_app(crate::ui::Launch {
                    preset: cli.preset,
                    config,
                    play: cli.play,
                    perf_log: cli.perf_log,
                    views: (!cli.views.is_empty()).then_some(cli.views),
                    // the app's own data folder (see `ui::run`)
                    data_dir: None,
                    present: cli.present,
                    lesson: cli.lesson,
                    full_speed: cli.full_speed,
                })
            })
        }
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Eval(args)) => evaluate::eval(&args),
        Some(Command::Classify(args)) => evaluate::classify(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::StepThrough(args)) => step_through::run(&args),
        Some(Command::Code(args)) => code::code(&args),
        Some(Command::Convert(args)) => code::convert(&args),
        Some(Command::Presets) => {
            for preset in crate::train::presets() {
                println!("{:<10} {}", preset.name, preset.description);
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
