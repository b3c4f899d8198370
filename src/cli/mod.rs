//! The `backprop-lab` command line: every figure the app shows, reproducible without a window.

mod bench;
mod evaluate;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::nn::{Loss, Optimizer};
use crate::ui::views::ViewKind;

#[derive(Debug, Parser)]
#[command(
    name = "backprop-lab",
    version,
    about = "Watch a neural network learn, and look inside it while it does"
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
    #[arg(long, value_delimiter = ',')]
    views: Vec<ViewArg>,
}

/// A view of the app's central area.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ViewArg {
    Curves,
    Network,
    Weights,
    Boundary,
    Confusion,
    Gallery,
    Draw,
}

impl From<ViewArg> for ViewKind {
    fn from(arg: ViewArg) -> Self {
        match arg {
            ViewArg::Curves => ViewKind::Curves,
            ViewArg::Network => ViewKind::Network,
            ViewArg::Weights => ViewKind::Weights,
            ViewArg::Boundary => ViewKind::Boundary,
            ViewArg::Confusion => ViewKind::Confusion,
            ViewArg::Gallery => ViewKind::Gallery,
            ViewArg::Draw => ViewKind::Draw,
        }
    }
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
    /// List the presets.
    Presets,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Preset to train (see `backprop-lab presets`).
    #[arg(long)]
    preset: String,
    /// Epochs to train (default: the preset's).
    #[arg(long)]
    epochs: Option<usize>,
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
    /// Seed of the weights, the shuffling, dropout and generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder with MNIST-format IDX files to use instead of the embedded subset.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Save the trained model to this file (JSON).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Print one JSON object per epoch on stdout, and nothing else there.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file saved by `train --save`.
    #[arg(long)]
    model: PathBuf,
    /// Folder with MNIST-format IDX files (default: the data the model was trained on).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print {"accuracy": .., "loss": .., "samples": ..}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Model file whose input is a 28x28 image.
    #[arg(long)]
    model: PathBuf,
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

/// Opens the desktop window.
fn open_app(launch: crate::ui::Launch) -> anyhow::Result<()> {
    if let Some(name) = &launch.preset
        && crate::train::Preset::named(name).is_none()
    {
        let names: Vec<_> = crate::train::presets().iter().map(|p| p.name).collect();
        anyhow::bail!(
            "no preset named \"{name}\"; the presets are {}",
            names.join(", ")
        );
    }
    crate::ui::run(launch).map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// Parses the arguments and runs the command; errors become a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => open_app(crate::ui::Launch {
            preset: cli.preset,
            config: None,
            play: cli.play,
            perf_log: cli.perf_log,
            views: (!cli.views.is_empty())
                .then(|| cli.views.into_iter().map(ViewKind::from).collect()),
        }),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Eval(args)) => evaluate::eval(&args),
        Some(Command::Classify(args)) => evaluate::classify(&args),
        Some(Command::Bench(args)) => bench::run(&args),
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
